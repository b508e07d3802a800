// Built-in agents: no LLM. Each turns the reference Model into a ModelNew that runs the same
// computation a faster way (torch.compile, CUDA graphs, cuDNN autotuning, channels-last, reduced
// precision), as an ordinary candidate file: the problem's source followed by a ModelNew subclass.
// So evaluation, storage and export treat their candidates like any other.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/agents/agent.h"
#include "kswarm/util/status.h"

namespace kswarm::agents {

struct BuiltinInfo {
  std::string name;
  std::string description;
  bool cuda_only = false;
  bool convolution_only = false;  // proposes only for problems with convolutions
  bool reduced_precision = false;
  bool batchnorm_only = false;  // proposes only for problems with batch norms too
  bool weights_only = false;    // proposes only for problems with layers that have weights
  bool cpu_only = false;
};

// The agent that searches combinations of recipes per problem (recipe_search.h).
inline constexpr const char* kRecipeSearchAgent = "recipe_search";
inline constexpr double kDefaultRecipeBudgetS = 60;

struct BuiltinOptions {
  double recipe_budget_s = kDefaultRecipeBudgetS;  // recipe_search's evaluations per problem
};

// Every built-in agent, in a stable order. Combinations of recipes ("channels_last+torch_compile",
// recipe_search.h) are built-in agents too, not listed.
const std::vector<BuiltinInfo>& BuiltinAgents();
// The listed agent's info, or a combination's; nullopt for any other name.
std::optional<BuiltinInfo> BuiltinInfoOf(const std::string& agent_name);

// Whether the named agent is a reduced-precision built-in (false for unknown names).
bool IsReducedPrecision(const std::string& agent_name);
// Whether `agent_name` is a built-in agent or combination: its candidates are kswarm's own recipes.
bool IsBuiltinAgent(const std::string& agent_name);

// The agents `kswarm run` uses when none are named, for a device type ("cuda" or "cpu").
std::vector<std::string> DefaultBuiltinNames(const std::string& device_type);

// Makes the named built-in agents. kInvalidArgument for an unknown name, or for a reduced-precision
// agent when `allow_reduced_precision` is false.
Result<std::vector<std::unique_ptr<Agent>>> MakeBuiltinAgents(
    const std::vector<std::string>& names, bool allow_reduced_precision,
    const BuiltinOptions& options = {});

}  // namespace kswarm::agents
