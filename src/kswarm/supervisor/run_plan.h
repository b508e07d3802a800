// The plan of a `kswarm run`: what it evaluates, with which agents and members, under which
// settings, budget and verdict rule. Stored as `runs.config_json` (docs/schema.md, "The run
// plan") and read back only through this type: by a resumed run, and by reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/supervisor/budget.h"
#include "kswarm/supervisor/verdict_policy.h"
#include "kswarm/util/status.h"

namespace kswarm::supervisor {

// One LLM member of the swarm: a configured model under one context configuration.
struct RunMember {
  std::string agent;    // its name in reports (the candidates' generator)
  std::string model;    // the [[models]] name
  std::string context;  // "none", "reference", "profile", ...
};

struct RunPlan {
  std::vector<std::string> paths;    // as given to `kswarm run`
  std::string device;                // the device type evaluated on: "cuda" or "cpu"
  std::vector<std::string> agents;   // built-in agents, the compile baseline first
  std::vector<std::string> replay;   // files of recorded candidates
  std::vector<std::string> models;   // --models as given (empty: all configured)
  std::vector<RunMember> members;    // the LLM members that ran from it
  std::string precision = "fp32";    // "fp32" or "reduced"
  int trials = 100;
  std::string tolerance = "seed";
  std::string shapes;                // "small", "full", "large"; empty: not recorded
  double timeout_s = 300;
  std::string static_check = "reject";
  std::string reference;             // reference implementations for LLM members
  BudgetLimits budget;               // the config's [budget]
  // Absent from runs recorded before they existed: no minimum gain and the median comparison,
  // then the fastest-calls comparison without a sequential rule (docs/verification.md).
  double min_gain = 0;
  std::string selection;             // "fastest_calls" since it was recorded
  std::optional<VerdictRule> verdict;
  double recipe_budget_s = 0;        // recipe_search's budget per problem; 0: not recorded
  // The output folder of the `kswarm optimize` that started the run; empty for `kswarm run`.
  std::string optimize_dir;
};

std::string RunPlanJson(const RunPlan& plan);
// A key left out keeps its default (runs of older versions); a value of the wrong type is
// kInvalidArgument, naming the key: the store's damage, said as such.
Result<RunPlan> ParseRunPlan(const std::string& json);

}  // namespace kswarm::supervisor
