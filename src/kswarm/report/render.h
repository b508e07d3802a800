// RunSummary as text (people), JSON (programs) and CSV (one row per problem, for spreadsheets).
#pragma once

#include <string>

#include "kswarm/report/summary.h"

namespace kswarm::report {

std::string RenderText(const RunSummary& summary);
std::string RenderJson(const RunSummary& summary);
std::string RenderCsv(const RunSummary& summary);

// The verification lines of the text report (what the checks did).
std::string VerificationText(const Verification& verification);

// Shared with the HTML page: "4 passed, 1 wrong" ("none" when empty); the per-problem marker of
// timing noise ("" unless NoisyEager(eager_spread)); the run's line about it ("" for none).
std::string Counts(const std::map<std::string, int>& counts);
std::string NoiseNote(double eager_spread);
std::string NoiseHeader(int noisy_problems);

}  // namespace kswarm::report
