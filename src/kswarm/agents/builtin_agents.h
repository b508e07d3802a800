// Built-in agents: no LLM. Each turns the reference Model into a ModelNew that runs the same
// computation a faster way (torch.compile, CUDA graphs, cuDNN autotuning, channels-last, reduced
// precision), as an ordinary candidate file: the problem's source followed by a ModelNew subclass.
// So evaluation, storage and export treat their candidates like any other.
#pragma once

#include <memory>
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
};

// Every built-in agent, in a stable order.
const std::vector<BuiltinInfo>& BuiltinAgents();

// Whether the named agent is a reduced-precision built-in (false for unknown names).
bool IsReducedPrecision(const std::string& agent_name);
// Whether `agent_name` is a built-in agent: its candidates are kswarm's own recipes.
bool IsBuiltinAgent(const std::string& agent_name);

// The agents `kswarm run` uses when none are named, for a device type ("cuda" or "cpu").
std::vector<std::string> DefaultBuiltinNames(const std::string& device_type);

// Makes the named built-in agents. kInvalidArgument for an unknown name, or for a reduced-precision
// agent when `allow_reduced_precision` is false.
Result<std::vector<std::unique_ptr<Agent>>> MakeBuiltinAgents(
    const std::vector<std::string>& names, bool allow_reduced_precision);

}  // namespace kswarm::agents
