// How `kswarm eval` shows its answer: a short text block for people, one JSON object for programs.
#pragma once

#include <string>

#include "kswarm/supervisor/evaluate_candidate.h"

namespace kswarm::cli {

// One JSON object (no trailing newline). Always has outcome, speedup, baseline_ms, candidate_ms,
// max_abs_err, max_rel_err and message; null where a value does not apply.
std::string EvalJson(const supervisor::CandidateResult& result);

// Human-readable lines, newline-terminated.
std::string EvalText(const supervisor::CandidateResult& result);

}  // namespace kswarm::cli
