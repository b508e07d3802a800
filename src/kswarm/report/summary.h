// The seed methodology's figures for one run, computed from the database: geometric-mean speedup
// with a floor of 1x (overall and per level, against eager and against torch.compile), per-agent
// correct-and-faster / correct-but-slower / incorrect counts by level, which agent won each
// problem, and the speedup distribution.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kswarm/report/model_report.h"
#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::report {

// Eager's time moving by more than this factor between one problem's evaluations marks the run's
// timings as the host's load rather than the candidates' speed.
inline constexpr double kNoisyEagerSpread = 1.5;

// A problem row's times. Eager and a candidate are timed alternately in one process, so only times
// of one evaluation are compared: each pair below comes from the evaluation named beside it.
struct RowTimes {
  // The kept candidate's evaluation; when eager is kept, torch.compile's (else the first one
  // timed), with kept_ms = eager_ms.
  std::optional<int64_t> evaluation_id;
  std::optional<double> eager_ms, kept_ms;
  double speedup = 1;  // vs eager, floor 1
  // A kept candidate's speed-up is the verdict rule's estimate from its fresh samples, with its
  // interval (docs/verification.md); runs recorded before the rule have no interval.
  std::optional<double> speedup_low, speedup_high;
  // torch.compile's own evaluation: its eager, its compiled model and the speed-up between them.
  std::optional<int64_t> compile_evaluation_id;
  std::optional<double> compile_eager_ms, compile_ms, compile_speedup;
  std::optional<double> speedup_vs_compile;  // speedup / compile_speedup, floor 1
};

struct ProblemRow {
  std::string name;
  int level = 0;  // 0: no levelN folder
  std::string status;  // done, skipped, running
  std::string message;
  RowTimes times;
  std::string winner = "eager";  // the agent whose candidate is kept, or eager
  bool reduced_precision = false;
  bool degenerate = false;  // the degenerate-problem check flagged its candidates
  double eager_spread = 1;  // EagerSpread() of the problem's evaluations in the run
};

// Per agent and problem, from its candidates' CandidateFigure()s.
struct AgentCounts {
  int faster = 0;     // some candidate correct with a figure above 1
  int slower = 0;     // some candidate correct, none above 1
  int incorrect = 0;  // no candidate correct
};


// Geometric means over the problems that finished (status done).
struct Geomeans {
  double overall = 1;
  std::map<int, double> by_level;
  int count = 0;
};

// What the checks did in this run (docs/verification.md).
struct Verification {
  int candidates = 0;                    // agents' evaluations (rechecks apart)
  std::map<std::string, int> outcomes;   // outcome name -> candidates
  std::map<std::string, int> flagged_by;  // check -> candidates it flagged
  int rechecked = 0;       // candidates evaluated again in a fresh process on new seeds
  int recheck_failed = 0;  // of those, not kept (failed, flagged, not clearly faster again)
  std::vector<std::string> degenerate;  // problems whose candidates were all flagged degenerate
  Geomeans vs_eager_without_degenerate;  // only meaningful when `degenerate` is not empty
};

// Finished problems by kept speed-up. Problems where eager is kept have a bin of their own, so
// that a kept candidate barely faster than eager is not counted with them.
struct Distribution {
  int eager_kept = 0;
  // Kept candidates: bin 0 holds (1, edges[1]), bin i > 0 [edges[i], edges[i+1]), the last is open.
  std::vector<double> edges;
  std::vector<int> counts;
  double median = 1;
  double geomean = 1;
  double geomean_below_10x = 1;  // excluding speedups of 10x and more

  // "(1, 1.1)" for bin 0, "[1.1, 1.25)" for bin 1, ">= 10x" for the last.
  std::string BinLabel(size_t i) const;
  // Every bin with its label, "eager kept" first.
  std::vector<std::pair<std::string, int>> Bins() const;
};

// An agent's share of the run's time: its evaluations (first ones and fresh samples, each from
// the job's sending to its answer) and, for an LLM agent, its model calls.
struct AgentTime {
  int evaluations = 0;
  double evaluation_s = 0;
  double call_s = 0;
};

// One LLM agent's spending and yield over the run (from its recorded model calls).
struct ModelUsage {
  int calls = 0;
  int failed_calls = 0;  // gave up after retries: no candidate
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  double latency_ms = 0;       // summed over calls
  int correct_candidates = 0;  // attempts whose candidate's figure is correct
  int faster_candidates = 0;   // of those, with a figure above 1
  // Cost per correct-and-faster candidate; nullopt when none.
  std::optional<double> usd_per_useful() const {
    if (faster_candidates == 0) return std::nullopt;
    return cost_usd / faster_candidates;
  }
};

struct RunSummary {
  int64_t run_id = 0;
  std::string run_name;
  std::string run_status;  // as stored, or "stopped": running, with no kswarm holding it
  std::string resume_note;  // how to go on with a run that did not finish, "" when it did
  std::string device;     // "cuda: NVIDIA H100 80GB HBM3"
  std::string versions;   // "torch 2.11.0, CUDA 13.0, driver ..."
  std::string tolerance;  // "seed (atol=rtol=1e-2)"
  std::string precision;  // "fp32 only" or "reduced precision allowed"
  std::string selection;  // when a candidate is kept over eager (the run's minimum gain)
  std::string shapes;     // "full", "small" or "large" (see ShapesNote), "" when unknown
  std::string isolation;  // what confined the candidates' code (IsolationOf)
  std::vector<ProblemRow> problems;
  Geomeans vs_eager;
  Geomeans vs_compile;
  int noisy_problems = 0;  // finished problems whose eager_spread is NoisyEager()
  std::map<std::string, std::map<int, AgentCounts>> agents;  // agent -> level -> counts
  std::map<std::string, int> wins;                            // agent (or eager) -> problems
  Distribution distribution;
  Verification verification;
  // Per agent, per level: geomean over problems of its best correct candidate's figure (floor 1;
  // problems it failed count 1).
  std::map<std::string, std::map<int, double>> agent_geomeans;
  std::map<std::string, AgentTime> agent_time;  // every agent that evaluated or called
  // A run of `kswarm optimize`: the whole-model figures of its report.json when they are this
  // run's, else why not (model_note); neither for a `kswarm run`.
  std::optional<ModelReport> model;
  std::string model_note;
  // LLM agents that made a call in the run:
  std::map<std::string, ModelUsage> models;
  // Level -> entry k-1: the share of (LLM agent, problem) pairs with a correct candidate (its
  // figure) by attempt k (the seed's success rate by generation attempt).
  std::map<int, std::vector<double>> correct_by_attempt;
  std::string budget;  // the run's limits for LLM agents, "" when none
  // Context configurations (none, reference, profile, both) of the LLM members that made a call
  // or an evaluation in the run. Per configuration: the geomean over finished problems of the
  // best figure its members reached (floor 1), per level and overall; and per level, how many
  // problems each configuration gave the best candidate of all ("eager": none beat eager).
  std::vector<std::string> contexts;  // in the order none, reference, profile, both
  std::map<std::string, std::map<int, double>> context_geomeans;
  std::map<std::string, double> context_geomean_overall;
  std::map<int, std::map<std::string, int>> best_context;
  int done = 0;
  int skipped = 0;

  // The levels that appear in `agents`, in order.
  std::set<int> AgentLevels() const;
};

// Shared by the renderers, tables and charts alike: "level 2" (or "no level"), a time in ms ("-"
// when unknown) and a speed-up ("1.020x").
std::string LevelName(int level);
std::string FormatMs(const std::optional<double>& ms);
std::string FormatSpeedup(double speedup);

// What confined the candidates of these evaluations (docs/containment.md): the isolation they
// share; else how many ran uncontained; "not recorded" for evaluations made before kswarm said.
std::string IsolationOf(const std::vector<store::EvaluationRecord>& evaluations);

// What a reader of a run with this status needs to know to finish it ("" for none).
std::string ResumeNote(const std::string& run_status);

// The shape set with what it means for the numbers measured at it.
std::string ShapesNote(const std::string& shapes);

// The run's shape set: the config's "shapes", else the one its evaluations share ("mixed" when
// they differ, "" when there are none).
std::string ShapeSet(const std::string& config_json,
                     const std::vector<store::EvaluationRecord>& evaluations);

// What one candidate showed over all its evaluations in the run: its first and its rechecks.
struct Figure {
  bool correct = false;  // every evaluation passed unflagged
  double speedup = 0;    // median of their speed-ups over eager; 0 when not correct
};

// The confirmed figure of one candidate from its evaluations (non-empty). The median of an even
// count is the geometric mean of the two middle values, as speed-ups are ratios.
Figure CandidateFigure(const std::vector<const store::EvaluationRecord*>& evaluations);

// Eager's slowest over its fastest time across the passed evaluations (1 for fewer than two).
double EagerSpread(const std::vector<const store::EvaluationRecord*>& evaluations);
// Whether a spread says the host's load moved the timings: above kNoisyEagerSpread.
bool NoisyEager(double spread);

// A row's times from the kept candidate's evaluation (null: eager kept), torch.compile's (null:
// none) and all the problem's evaluations in the run.
RowTimes TimesOf(const store::EvaluationRecord* kept, const store::EvaluationRecord* compile,
                 const std::vector<const store::EvaluationRecord*>& of_problem);

// The speed-up distribution of the finished rows; eager kept is decided by the winner.
Distribution Distribute(const std::vector<ProblemRow>& rows);

// Geometric mean of the values (1 for none).
double Geomean(const std::vector<double>& values);

// A check as reports name it ("static check", "degenerate problem", "speed of light", ...).
std::string CheckName(const std::string& check);

Result<RunSummary> Summarize(store::Store& store, const store::RunRecord& run);

}  // namespace kswarm::report
