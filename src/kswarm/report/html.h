// RunSummary as one self-contained HTML page with SVG charts (no external resources).
#pragma once

#include <string>

#include "kswarm/report/summary.h"

namespace kswarm::report {

std::string RenderHtml(const RunSummary& summary);

}  // namespace kswarm::report
