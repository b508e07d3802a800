// The supervisor's run over a suite: for every problem, every agent proposes candidates, each is
// evaluated and recorded, and the fastest passed one is kept, or eager when nothing beats it.
// Runs are named and resumable: running a name again continues where that run stopped.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/agents/agent.h"
#include "kswarm/supervisor/budget.h"
#include "kswarm/core/evaluation.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::supervisor {

// The problem files under `paths` (files, or folders searched recursively for *.py, skipping
// names that start with '_'), sorted within each folder. kInvalidArgument for a missing path.
Result<std::vector<std::string>> DiscoverProblems(const std::vector<std::string>& paths);

// The agent whose candidate is the second baseline of every report.
inline constexpr const char* kCompileBaselineAgent = "torch_compile";

struct ProgressEvent {
  enum class Kind { kProblemStart, kCandidate, kProblemDone, kProblemSkipped };
  Kind kind = Kind::kProblemStart;
  int index = 0;  // 0-based position of the problem
  int total = 0;
  std::string problem;
  std::string agent;                  // kCandidate
  std::string outcome;                // kCandidate: the outcome's name
  std::optional<double> speedup;      // kCandidate: this candidate; kProblemDone: the kept one
  std::optional<double> best_so_far;  // best speedup on this problem so far
  bool cached = false;                // kCandidate answered from this run's records (resume)
  std::string message;                // kProblemSkipped: why
  double elapsed_s = 0;
};
using ProgressFn = std::function<void(const ProgressEvent&)>;

struct SuiteResult {
  int64_t run_id = 0;
  bool resumed = false;
  int problems = 0;
  int done = 0;
  int skipped = 0;
  int already_done = 0;  // finished before this invocation (resume)
};

class SuiteRunner {
 public:
  // `agents` must include kCompileBaselineAgent; it runs first on every problem. A candidate is
  // kept only when it is core::ClearlyFaster than eager by `min_gain`.
  SuiteRunner(store::Store& store, evaluator::Evaluator& evaluator,
              std::vector<std::unique_ptr<agents::Agent>> agents, core::EvalSettings settings,
              ProgressFn progress, double min_gain = core::kDefaultMinGain);

  // Limits what metered agents may spend over the run (a resumed run counts what it spent
  // before). An agent that finds the budget spent stops proposing; the run goes on.
  void set_budget(BudgetLimits limits) { budget_ = RunBudget(limits); }

  // Runs (or resumes, when `run_id` is set) the named run over `problem_paths`.
  // `config_json` is stored with a new run. Errors end the run early but leave it resumable.
  Result<SuiteResult> Run(const std::string& run_name, std::optional<int64_t> run_id,
                          const std::string& config_json,
                          const std::vector<std::string>& problem_paths);

 private:
  // Evaluates every agent's candidates on one problem and records the verdict.
  Status RunProblem(int64_t run_id, int position, int total, const std::string& path,
                    SuiteResult& result);

  store::Store& store_;
  evaluator::Evaluator& evaluator_;
  std::vector<std::unique_ptr<agents::Agent>> agents_;
  core::EvalSettings settings_;
  ProgressFn progress_;
  double min_gain_;
  RunBudget budget_;
  double started_s_ = 0;
};

}  // namespace kswarm::supervisor
