// How `kswarm problems` shows what each problem allows: whether an answer that ignores the work
// passes its tolerance (a degenerate problem), and eager's time against the speed of light.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kswarm/evaluator/protocol.h"

namespace kswarm::cli {

struct ProblemProbe {
  std::string name;  // file stem
  std::optional<int> level;
  std::string path;
  std::optional<evaluator::ProbeReply> probe;  // empty when the probe failed
  std::string error;                           // why it failed
};

// A table, one row per problem, then which problems are degenerate and which failed.
std::string ProblemsText(const std::vector<ProblemProbe>& probes, const std::string& device);

// One JSON object: {"device", "problems": [...], "degenerate": [names], "failed": [names]}.
std::string ProblemsJson(const std::vector<ProblemProbe>& probes, const std::string& device);

}  // namespace kswarm::cli
