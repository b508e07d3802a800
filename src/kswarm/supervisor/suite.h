// The supervisor's run over a suite: for every problem, every agent proposes candidates, each is
// evaluated and recorded, and the fastest passed one is kept, or eager when nothing beats it.
// Runs are named and resumable: running a name again continues where that run stopped.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/agents/agent.h"
#include "kswarm/supervisor/budget.h"
#include "kswarm/supervisor/context.h"
#include "kswarm/core/evaluation.h"
#include "kswarm/evaluator/build_pool.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/evaluator/tools.h"
#include "kswarm/supervisor/evaluate_candidate.h"
#include "kswarm/supervisor/verdict_policy.h"
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
  //
  // `devices` holds one evaluator per device (one worker per GPU), started by the caller's
  // thread: problems are spread across them, one problem per device at a time, and every
  // candidate of a problem runs on that problem's device. The verdicts do not depend on how many
  // devices there are. Workers that a device's thread has to restart end with the run.
  SuiteRunner(store::Store& store, std::vector<evaluator::Evaluator*> devices,
              std::vector<std::unique_ptr<agents::Agent>> agents, core::EvalSettings settings,
              ProgressFn progress, double min_gain = core::kDefaultMinGain);
  SuiteRunner(store::Store& store, evaluator::Evaluator& evaluator,
              std::vector<std::unique_ptr<agents::Agent>> agents, core::EvalSettings settings,
              ProgressFn progress, double min_gain = core::kDefaultMinGain)
      : SuiteRunner(store, std::vector<evaluator::Evaluator*>{&evaluator}, std::move(agents),
                    std::move(settings), std::move(progress), min_gain) {}

  // Limits what metered agents may spend over the run (a resumed run counts what it spent
  // before). An agent that finds the budget spent stops proposing; the run goes on.
  void set_budget(BudgetLimits limits) { budget_ = RunBudget(limits); }

  // Builds candidates ahead of their evaluation in `pool` (not owned; nullptr: each candidate
  // builds in its evaluation). The first attempts of the unmetered agents are built together as a
  // problem starts; a metered agent's candidate is built as it arrives. On a GPU the builds
  // overlap other candidates' timing; on the CPU, which they would disturb, they do not.
  void set_build_pool(evaluator::BuildPool* pool) { pool_ = pool; }

  // Where the reference implementations of agents with a reference context come from (found
  // once per problem, as the problem starts on its device). Agents with a profile context get
  // each attempt that passed profiled on its device (nothing else is timed there meanwhile),
  // and the profile, or their advisor's reading of it, goes into their next attempt.
  void set_reference_sources(ReferenceSources sources) { references_ = std::move(sources); }

  // The rule that decides what each problem keeps (docs/verification.md); by default the
  // default rule with the constructor's `min_gain`.
  void set_verdict_rule(VerdictRule rule) { rule_ = rule; }

  // Whether candidates whose numbers are coarser than fp32 may be kept (--precision reduced);
  // by default they never are (core::Evaluation::reduced_precision()).
  void set_reduced_precision_allowed(bool allowed) { reduced_precision_allowed_ = allowed; }

  // Runs (or resumes, when `run_id` is set) the named run over `problem_paths`.
  // `config_json` is stored with a new run. Errors end the run early but leave it resumable.
  Result<SuiteResult> Run(const std::string& run_name, std::optional<int64_t> run_id,
                          const std::string& config_json,
                          const std::vector<std::string>& problem_paths);

 private:
  // Evaluates every agent's candidates on one problem on `device` and records the verdict.
  Status RunProblem(evaluator::Evaluator& device, int64_t run_id, int position, int total,
                    const std::string& path, SuiteResult& result);

  // The agent loop (agent_loop.cc). A problem's shared state is its session
  // (problem_session.h); the functions below marked "under s.mu" expect its lock held.
  struct ProblemSession;
  struct PendingAdvice {  // a profile waiting for the agent's advisor
    agents::AdviceRequest request;
    int64_t evaluation = 0;  // the profiled attempt's
  };
  // Every attempt of `agent` on the problem, until it has none left, its budget is spent or the
  // problem stops (s.failure, s.broken).
  void RunAgent(ProblemSession& s, agents::Agent& agent);
  // Whether `agent` may propose again: the problem goes on and its budget is not spent (said as
  // a progress line when it is). Under s.mu.
  bool MayPropose(ProblemSession& s, const agents::Agent& agent);
  // Asks the advisor to read the pending profile (outside the lock) and puts its reading in the
  // last attempt's history; false when the problem stopped.
  bool TakeAdvice(ProblemSession& s, agents::Agent& agent, int attempt,
                  const PendingAdvice& pending, agents::AgentRequest& request);
  // Evaluates and records one proposal (and its model call); none when the problem stopped.
  // Under s.mu.
  std::optional<CandidateResult> EvaluateAttempt(
      ProblemSession& s, const agents::Agent& agent, int attempt, const std::string& file,
      const agents::Proposal& p, const std::optional<evaluator::BuildOutcome>& prebuilt);
  // What an evaluated attempt adds to the problem (contenders, torch.compile's time, progress).
  // Under s.mu.
  void AddAttempt(ProblemSession& s, const agents::Agent& agent, const CandidateResult& candidate);
  // Profiles a passed attempt for the agent's next one; the advice to ask for, if any. Under s.mu.
  std::optional<PendingAdvice> ProfileForNextAttempt(ProblemSession& s, const agents::Agent& agent,
                                                     const CandidateResult& candidate,
                                                     agents::AgentRequest& request);
  // Records a metered call (a proposal's or an advice's) and charges it to the budgets. Under s.mu.
  Status RecordCall(ProblemSession& s, const agents::Agent& agent, int attempt,
                    const agents::CallRecord& c, std::optional<int64_t> evaluation_id,
                    const std::string& error, const std::string& purpose);
  void EmitCandidate(ProblemSession& s, const std::string& agent, std::string outcome,
                     std::optional<double> speedup);
  // The build of `source` from the pool, when there is one and the candidate compiles on import.
  std::optional<evaluator::BuildOutcome> Prebuild(const std::string& file,
                                                  const std::string& source);
  // What a problem keeps, by the rule of docs/verification.md: fresh evaluations of the
  // `passed` candidates (first evaluations passed and keepable, in the order evaluated) as the
  // rule asks for them, each recorded and reported; the rule's steps stored as decisions.
  struct Kept {
    std::optional<store::EvaluationRecord> evaluation;  // empty: eager stays
    double speedup = 1, speedup_low = 1, speedup_high = 1;
    std::optional<int64_t> last_fresh;  // the last fresh evaluation made
  };
  Result<Kept> Decide(evaluator::Evaluator& device, int64_t run_id, int64_t problem_id,
                      const std::vector<CandidateResult>& passed, ProgressEvent event);
  // The noise pool of a resumed run: the fresh samples of its problems already done.
  Result<NoisePool> RunNoiseOf(int64_t run_id,
                               const std::vector<store::RunProblemRecord>& problems);
  void Emit(ProgressEvent event, ProgressEvent::Kind kind);
  agents::AgentRequest BaseRequest(const store::ProblemRecord& problem,
                                   const core::Environment& env) const;
  // Queues the candidate in the pool when there is one and the candidate compiles on import;
  // returns whether it did.
  bool SubmitBuild(const std::string& file, const std::string& source);
  // The unmetered agents' first proposals for a problem, each submitted to the pool.
  using FirstProposals = std::map<const agents::Agent*, Result<std::optional<agents::Proposal>>>;
  FirstProposals ProposeFirst(const agents::AgentRequest& base);
  // Charges a metered call to the run's budget and to its member's own; under shared_mu_.
  void Charge(const std::string& agent, int64_t tokens, double usd);
  // The first limit `agent` has reached, the run's or its own; under shared_mu_.
  std::optional<std::string> OverBudget(const std::string& agent) const;
  // Profiles a passed candidate of a profile member on `device` (nothing else runs there
  // meanwhile) and records the profile; a candidate that fails under the profiler is a report.
  Result<evaluator::ProfileReport> ProfileAndRecord(evaluator::Evaluator& device, int64_t run_id,
                                                    const std::string& agent,
                                                    const store::ProblemRecord& problem,
                                                    const CandidateResult& candidate,
                                                    const std::string& device_type);

  store::Store& store_;
  std::vector<evaluator::Evaluator*> devices_;
  std::vector<std::unique_ptr<agents::Agent>> agents_;
  core::EvalSettings settings_;
  ProgressFn progress_;
  double min_gain_;
  VerdictRule rule_;
  bool reduced_precision_allowed_ = false;
  evaluator::BuildPool* pool_ = nullptr;
  std::mutex shared_mu_;  // guards budget_, progress_ and the run's counts across devices
  RunBudget budget_;
  std::map<std::string, RunBudget> member_budgets_;  // agents with a budget of their own
  ReferenceSources references_;
  std::map<std::string, FirstProposals> prefetched_;  // by problem path, until its turn
  NoisePool run_noise_;  // repeated fresh samples of the run's decided problems; under shared_mu_
  double started_s_ = 0;
};

}  // namespace kswarm::supervisor
