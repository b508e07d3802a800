// RunSummary as text (people), JSON (programs) and CSV (one row per problem, for spreadsheets).
#pragma once

#include <string>

#include "kswarm/report/summary.h"

namespace kswarm::report {

std::string RenderText(const RunSummary& summary);
std::string RenderJson(const RunSummary& summary);
std::string RenderCsv(const RunSummary& summary);

// The verification lines of the text report (what the checks did), shared with the HTML page.
std::string VerificationText(const Verification& verification);

}  // namespace kswarm::report
