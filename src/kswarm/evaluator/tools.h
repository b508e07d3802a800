// One-shot worker tools that are not evaluations: profiling a candidate that passed
// (python3 -m kswarm_worker.profile) and asking torch.compile for the code it generates for a
// problem (python3 -m kswarm_worker.inductor_code). docs/worker_protocol.md, "Tools".
//
// Each runs in a process of its own with the sandbox's scrubbed environment, in its own process
// group, under a deadline, and answers one JSON line. The profiler runs candidate code and uses
// the device: the caller runs it when nothing is timed on that device.
#pragma once

#include <string>
#include <vector>

#include "kswarm/evaluator/evaluator.h"
#include "kswarm/util/status.h"

namespace kswarm::evaluator {

// Runs `python -m kswarm_worker.<module> ARGS` in a jail made with `jail_args` (Contained) and
// returns its last stdout line, a JSON object, with any configured key taken out (util/redact.h).
// kDeadlineExceeded when it ran past `timeout_s` (its process group is killed); kInternal when
// it exits without an answer (the message holds its stderr's tail).
Result<std::string> RunWorkerTool(const WorkerConfig& worker, const std::string& module,
                                  const std::vector<std::string>& jail_args,
                                  const std::vector<std::string>& args, double timeout_s);

struct ProfileJob {
  std::string problem_path;
  std::string candidate_path;
  std::string device_type;  // "cuda" or "cpu"
  std::string shapes = "full";
  int seed = 1;
  double measured_ms = 0;  // the evaluation's median time of one call; 0: measure
  double timeout_s = 300;
};

struct ProfileReport {
  std::string tool;          // "ncu" or "torch.profiler"; empty when profiling failed
  std::string metrics_json;  // the tool's whole answer (kernels or operators, work, peaks)
  std::string summary;       // the rule-based reading of the metrics
  std::string error;         // why there is no profile (the candidate failed under the profiler)
  double wall_ms = 0;
};

// Profiles a candidate. A candidate that fails under the profiler is a report with `error` set;
// errors are for a tool that cannot run at all.
Result<ProfileReport> ProfileCandidate(const WorkerConfig& worker, const ProfileJob& job);

// The code torch.compile (Inductor) generates for the problem on `device_type`; kInvalidArgument
// with the reason when it cannot compile the problem.
Result<std::string> InductorCode(const WorkerConfig& worker, const std::string& problem_path,
                                 const std::string& device_type, const std::string& shapes,
                                 double timeout_s);

}  // namespace kswarm::evaluator
