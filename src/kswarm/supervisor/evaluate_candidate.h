// One candidate against one problem, end to end: read both files, answer from the store when the
// same question was answered before (unless fresh), otherwise evaluate and record.
#pragma once

#include <string>

#include "kswarm/core/evaluation.h"
#include "kswarm/evaluator/build_pool.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::supervisor {

struct CandidateRequest {
  std::string problem_path;
  std::string candidate_path;
  std::string generator = "user";  // who made the candidate
  core::EvalSettings settings;
  bool fresh = false;  // evaluate even when the store has an answer
};

struct CandidateResult {
  store::ProblemRecord problem;
  store::CandidateRecord candidate;
  store::EvaluationRecord record;  // the evaluation, with its settings and environment
  bool cached = false;             // answered from the store
};

// Errors: kInvalidArgument for bad input (missing files, a broken problem, an unusable device);
// kInternal/kIoError for worker or database failures. Outcomes are in result.record.evaluation.
// With `pool`, a candidate that compiles on import is built there first: a contained sandbox may
// not write the build cache, so without it the candidate would compile in its evaluation, for that
// process alone, every time.
Result<CandidateResult> EvaluateCandidate(store::Store& store, evaluator::Evaluator& evaluator,
                                          const CandidateRequest& request,
                                          evaluator::BuildPool* pool = nullptr);

// The shared step: evaluates a candidate already read into `candidate` (its file at
// candidate.path) for `problem`, under run `run_id` as the agent's `attempt`, and records it.
// The store answers instead when it holds the same question: from any run, or with `same_run_only`
// from this run alone (a resumed run). Fills result.record and result.cached.
// With `prebuilt` (the build pool's outcome for this candidate), its time is recorded as the
// "prebuild" phase, and a compile error found there is the verdict: the worker is not asked.
Status EvaluateAndRecord(store::Store& store, evaluator::Evaluator& evaluator,
                         const core::EvalSettings& settings, int64_t run_id, int attempt,
                         bool fresh, bool same_run_only, CandidateResult& result,
                         const evaluator::BuildOutcome* prebuilt = nullptr);

// Re-verifies a candidate already evaluated in `candidate` (its record filled): evaluated again in
// a sandbox process no earlier job touched, on a new seed, and recorded with purpose "recheck".
// Returns that record; `candidate` is left as it was.
Result<store::EvaluationRecord> RecheckAndRecord(store::Store& store,
                                                 evaluator::Evaluator& evaluator,
                                                 const core::EvalSettings& settings,
                                                 int64_t run_id, const CandidateResult& candidate);

}  // namespace kswarm::supervisor
