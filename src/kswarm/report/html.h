// RunSummary as one self-contained HTML page with SVG charts (no external resources).
#pragma once

#include <string>

#include "kswarm/report/summary.h"

namespace kswarm::report {

std::string RenderHtml(const RunSummary& summary);

// How a chart's bars grow: counts linearly from 0; speed-ups from 1x on a log scale, so that
// 1.02x is a sliver beside 2.5x rather than 40% of it.
enum class Scale { kLinear, kLogFromOne };

// A bar's length as a fraction of the chart's width, the largest value filling it.
double BarFraction(Scale scale, double value, double largest);

}  // namespace kswarm::report
