// What the steps of one problem on one device share while its agents work on it (SuiteRunner's
// RunProblem, agent loop and verdict). Private to the supervisor's suite.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kswarm/supervisor/suite.h"

namespace kswarm::supervisor {

struct SuiteRunner::ProblemSession {
  ProblemSession(evaluator::Evaluator& device, int64_t run_id, int64_t problem_id,
                 store::ProblemRecord problem, core::Environment env,
                 agents::AgentRequest base_request,
                 std::optional<agents::ReferenceContext> reference, ProgressEvent event)
      : device(device),
        run_id(run_id),
        problem_id(problem_id),
        problem(std::move(problem)),
        env(std::move(env)),
        base_request(std::move(base_request)),
        reference(std::move(reference)),
        event(std::move(event)) {}

  evaluator::Evaluator& device;
  int64_t run_id = 0;
  int64_t problem_id = 0;
  store::ProblemRecord problem;
  core::Environment env;
  agents::AgentRequest base_request;
  std::optional<agents::ReferenceContext> reference;  // for agents with a reference context
  FirstProposals first_proposals;  // the unmetered agents' first attempts, built ahead
  bool overlap = false;  // builds run beside other candidates' timing (GPU), not on the CPU

  // Guards everything below and the use of the device, the store and the progress callback:
  // metered agents propose concurrently, one at a time evaluates.
  std::mutex mu;
  ProgressEvent event;
  std::vector<CandidateResult> passed;  // first evaluations passed and keepable, in order
  std::optional<store::EvaluationRecord> leading;  // the fastest clearly faster one, for progress
  std::optional<store::EvaluationRecord> compile;  // torch.compile's, the report's second baseline
  std::optional<double> any_eager_ms;              // eager's time, when nothing is kept
  Status failure = Status::Ok();      // kswarm itself failed: the run stops, resumable
  std::optional<std::string> broken;  // the problem itself fails: it is skipped

  bool stopped() const { return !failure.ok() || broken.has_value(); }
};

// An agent's candidate as a file (the worker loads files), kept by content hash.
Result<std::string> WriteCandidateFile(const std::string& source);

// An evaluation as a sample of the verdict rule (docs/verification.md): log(eager / candidate)
// when it passed and may be kept under the run's precision, else none.
std::optional<double> LogGain(const core::Evaluation& e, bool reduced_precision_allowed);

}  // namespace kswarm::supervisor
