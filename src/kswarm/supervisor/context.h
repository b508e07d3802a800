// Reference implementations for the agents whose context configuration asks for one
// (docs/config.md, [context]): an implementation of the same problem in another backend.
#pragma once

#include <optional>
#include <string>

#include "kswarm/agents/agent.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::supervisor {

struct ReferenceSources {
  // A file (the reference of every problem) or a folder holding, per problem, a file or a folder
  // named after it (07_gelu.cu, 07_gelu/...). Empty: none.
  std::string user_path;
  bool inductor = true;  // fall back to torch.compile's generated code
};

// kInvalidArgument when `sources.user_path` is set and does not exist.
Status CheckSources(const ReferenceSources& sources);

// The user's reference for `problem` (nullopt when the folder has none for it).
Result<std::optional<agents::ReferenceContext>> UserReference(const std::string& user_path,
                                                              const std::string& problem_name);

struct ReferenceQuery {
  const store::ProblemRecord* problem = nullptr;
  std::string device_type;  // the run's target: "cuda", "cpu"
  std::string build_arch;   // part of the cache key of torch.compile's code
  std::string torch_version;
  std::string shapes = "full";
  double timeout_s = 600;
};

// The first of: the user's reference, the fastest winner of this problem kept by an earlier run
// on another device type (the store), torch.compile's generated code on this device (computed
// once per problem, device and torch version, then read from kswarm's cache folder). nullopt
// when there is none (torch.compile failing on the problem is not an error of the run).
Result<std::optional<agents::ReferenceContext>> FindReference(
    store::Store& store, const evaluator::WorkerConfig& worker, const ReferenceSources& sources,
    const ReferenceQuery& query);

}  // namespace kswarm::supervisor
