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

#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::report {

struct ProblemRow {
  std::string name;
  int level = 0;  // 0: no levelN folder
  std::string status;  // done, skipped, running
  std::string message;
  std::optional<double> eager_ms, compile_ms, best_ms;
  double speedup = 1;  // vs eager, floor 1
  std::optional<double> speedup_vs_compile;
  std::string winner = "eager";  // the agent whose candidate is kept, or eager
  bool reduced_precision = false;
  bool degenerate = false;  // the degenerate-problem check flagged its candidates
};

struct AgentCounts {
  int faster = 0;     // some attempt passed unflagged and beat eager
  int slower = 0;     // passed unflagged, never beat eager
  int incorrect = 0;  // no attempt passed unflagged
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

struct Distribution {
  std::vector<double> edges;  // bin i holds speedups in [edges[i], edges[i+1]); last bin open
  std::vector<int> counts;
  double median = 1;
  double geomean = 1;
  double geomean_below_10x = 1;  // excluding speedups of 10x and more

  // "[1.1, 1.25)" for bin i, ">= 10x" for the last.
  std::string BinLabel(size_t i) const;
};

// One LLM agent's spending and yield over the run (from its recorded model calls).
struct ModelUsage {
  int calls = 0;
  int failed_calls = 0;  // gave up after retries: no candidate
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  double latency_ms = 0;       // summed over calls
  int correct_candidates = 0;  // passed unflagged
  int faster_candidates = 0;   // of those, faster than eager
  // Cost per correct-and-faster candidate; nullopt when none.
  std::optional<double> usd_per_useful() const {
    if (faster_candidates == 0) return std::nullopt;
    return cost_usd / faster_candidates;
  }
};

struct RunSummary {
  int64_t run_id = 0;
  std::string run_name;
  std::string run_status;
  std::string device;     // "cuda: NVIDIA H100 80GB HBM3"
  std::string versions;   // "torch 2.11.0, CUDA 13.0, driver ..."
  std::string tolerance;  // "seed (atol=rtol=1e-2)"
  std::string precision;  // "fp32 only" or "reduced precision allowed"
  std::string selection;  // when a candidate is kept over eager (the run's minimum gain)
  std::vector<ProblemRow> problems;
  Geomeans vs_eager;
  Geomeans vs_compile;
  std::map<std::string, std::map<int, AgentCounts>> agents;  // agent -> level -> counts
  std::map<std::string, int> wins;                            // agent (or eager) -> problems
  Distribution distribution;
  Verification verification;
  // Per agent, per level: geomean over problems of its best passed, unflagged speedup (floor 1;
  // problems it failed count 1).
  std::map<std::string, std::map<int, double>> agent_geomeans;
  // LLM agents only:
  std::map<std::string, ModelUsage> models;
  // Level -> entry k-1: the share of (LLM agent, problem) pairs with a passed, unflagged
  // candidate by attempt k (the seed's success rate by generation attempt).
  std::map<int, std::vector<double>> correct_by_attempt;
  std::string budget;  // the run's limits for LLM agents, "" when none
  // Context configurations of the LLM members (none, reference, profile, both), when the run had
  // any. Per configuration: the geomean over finished problems of the best speedup its members
  // reached (floor 1), per level and overall; and per level, how many problems each
  // configuration gave the best candidate of all configurations ("eager": none beat eager).
  std::vector<std::string> contexts;  // in the order none, reference, profile, both
  std::map<std::string, std::map<int, double>> context_geomeans;
  std::map<std::string, double> context_geomean_overall;
  std::map<int, std::map<std::string, int>> best_context;
  int done = 0;
  int skipped = 0;

  // The levels that appear in `agents`, in order.
  std::set<int> AgentLevels() const;
};

// Shared by the renderers: "level 2" (or "no level"), and a median in ms ("-" when unknown).
std::string LevelName(int level);
std::string FormatMs(const std::optional<double>& ms);

// Geometric mean of the values (1 for none).
double Geomean(const std::vector<double>& values);

// The check behind a flag text: "static check", "degenerate problem", "speed of light".
std::string FlagCheck(const std::string& flag);

Result<RunSummary> Summarize(store::Store& store, const store::RunRecord& run);

}  // namespace kswarm::report
