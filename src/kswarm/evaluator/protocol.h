// Encoding and decoding of worker protocol v1 messages (docs/worker_protocol.md).
// Pure functions: no I/O, so the wire format is tested without a worker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kswarm/core/evaluation.h"
#include "kswarm/util/cpus.h"
#include "kswarm/util/status.h"

namespace kswarm::evaluator {

inline constexpr int kProtocolVersion = 1;

// One evaluate request: which files, how, and under which base seed.
struct EvalJob {
  std::string problem_path;    // absolute
  std::string candidate_path;  // absolute
  core::EvalSettings settings;
  uint64_t seed = 0;
  // Load the candidate in a sandbox process no earlier job has touched (re-verification).
  bool fresh_process = false;
  // Written by kswarm's own recipes: it may share a warm sandbox and the compiler caches with
  // other such candidates (docs/containment.md). Anyone else's candidate never does.
  bool trusted = false;
  // The worker's cores (util/cpus.h): set by the Evaluator from its WorkerConfig; none when
  // timing_cpu < 0.
  CpuPlan cpus;
};

// What a problem allows, with no candidate: the probe op.
struct ProbeJob {
  std::string problem_path;  // absolute
  core::EvalSettings settings;  // shapes, tolerance and min_runs (eager's timed calls) are used
  uint64_t seed = 0;
  CpuPlan cpus;  // as EvalJob::cpus
};

struct ProbeReply {
  // Answers that ignore the work yet pass the tolerance on every input distribution ("zeros",
  // "a constant", "the input"); empty for a problem worth optimising.
  std::vector<std::string> degenerate;
  double input_bytes = 0;
  double output_bytes = 0;
  double flops = 0;
  double peak_bytes_per_s = 0;  // measured by the worker on its device
  double peak_flops_per_s = 0;
  double bound_ms = 0;  // the speed-of-light time of one call, slack included
  double slack = 0;
  core::TimingStats eager;
};

// The hello reply: the environment every evaluation records, and what scheduling needs.
struct HelloReply {
  core::Environment env;
  std::string build_arch;  // what candidates build for: "sm_90", "cpu-x86_64"
  int device_count = 1;    // CUDA devices the worker can see (1 on CPU)
  bool contained = false;  // candidate code runs in a jail (env.isolation says which)
};

struct EvaluateReply {
  core::Evaluation evaluation;  // wall_ms is left 0: the caller measures it
  bool poisoned = false;        // the worker must be restarted before the next job
};

std::string EncodeHello(int64_t id);
std::string EncodeEvaluate(int64_t id, const EvalJob& job);
std::string EncodeShutdown(int64_t id);
std::string EncodeProbe(int64_t id, const ProbeJob& job);

// Decoding. A reply with ok=false becomes an error: kind "problem" or "device" -> kInvalidArgument
// (bad user input), anything else -> kInternal. A line that is not a v1 reply to `id` -> kInternal.
Result<HelloReply> DecodeHello(std::string_view line, int64_t id);
Result<EvaluateReply> DecodeEvaluate(std::string_view line, int64_t id);
Result<ProbeReply> DecodeProbe(std::string_view line, int64_t id);

}  // namespace kswarm::evaluator
