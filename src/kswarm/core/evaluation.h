// The value types of an evaluation, shared by the evaluator (which produces them), the store (which
// keeps them) and the reports (which read them). Plain data; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace kswarm::core {

// What happened to a candidate. Every outcome is data, stored and fed back; none is an error.
enum class Outcome {
  kPassed,        // correct on every trial, and timed
  kWrong,         // ran, but an output differs from the reference
  kCompileError,  // does not parse, import or build
  kRuntimeError,  // raised while constructing or running
  kTimeout,       // did not finish before the deadline; its worker was killed
  kCrashed,       // took its worker process down
  kRejected,      // breaks the candidate contract (no ModelNew, mutates inputs, ...)
};

std::string_view OutcomeName(Outcome outcome);  // "passed", "compile_error", ...
std::optional<Outcome> ParseOutcome(std::string_view name);

enum class Tolerance {
  kSeed,    // atol = rtol = 1e-2, the seed methodology
  kStrict,  // 1e-4 for fp32/fp64, 1e-2 for fp16/bf16
};
std::string_view ToleranceName(Tolerance tolerance);
std::optional<Tolerance> ParseTolerance(std::string_view name);

// Median, interquartile range and count of one model's timed calls, in milliseconds.
struct TimingStats {
  double median_ms = 0;
  double iqr_ms = 0;
  double min_ms = 0;
  int count = 0;
};

// Where an evaluation ran: every timing is recorded with these.
struct Environment {
  std::string device_type;  // "cuda" or "cpu"
  std::string device_name;  // "NVIDIA H100 80GB HBM3", "AMD EPYC"
  std::string driver;       // NVIDIA driver version; empty on CPU or when unknown
  std::string torch_version;
  std::string cuda_version;  // torch's CUDA version; empty when none
  std::string python_version;
  std::string triton_version;
  std::string worker_version;
  std::string device_json;         // the worker's full device description (JSON object)
  std::string backend_flags_json;  // PyTorch backend flags in force (JSON object)
  // What confined candidate code (docs/containment.md): "contained: ..." or "uncontained (why)".
  std::string isolation;
};

// What is asked of one evaluation, besides the two files.
struct EvalSettings {
  int trials = 100;
  Tolerance tolerance = Tolerance::kSeed;
  std::string shapes = "full";  // "full", "small" or "large" (docs/worker_protocol.md)
  double timeout_s = 300;       // deadline for the whole evaluation
  // Timing rounds: n = budget / (one warm-up round), clamped to [min_runs, max_runs].
  int warmup_runs = 3;
  int min_runs = 10;
  int max_runs = 100;
  double timing_budget_ms = 10000;
  // What the static check does with forbidden APIs in a candidate: "reject" it, or "report"
  // them as flags (docs/verification.md).
  std::string static_policy = "reject";
};

struct Evaluation {
  Outcome outcome = Outcome::kRuntimeError;
  std::string message;  // text an agent can act on
  int trials_run = 0;
  std::optional<double> max_abs_err;
  std::optional<double> max_rel_err;
  std::optional<TimingStats> baseline;   // PyTorch eager, timed in the same worker
  std::optional<TimingStats> candidate;
  uint64_t seed = 0;
  std::string failure_json;   // the first failing element for kWrong (JSON object), else empty
  std::string phase_ms_json;  // wall time per phase (JSON object), else empty
  std::string flags_json;     // the checks' findings (a JSON array: ParseFlags), else empty
  double wall_ms = 0;         // the whole evaluation, as seen by kswarm

  // Eager's fastest timed call over the candidate's (the minimums; the medians for an evaluation
  // recorded without them); only for kPassed. The outputs of the candidate's fastest calls are
  // checked (docs/verification.md), and a minimum moves less with the host's load than a median
  // (bench/results/2026-12-01-h200-fastest-calls.md).
  std::optional<double> Speedup() const;
  // baseline median / candidate median; only for kPassed. Shown beside Speedup().
  std::optional<double> MedianSpeedup() const;
  // Whether a check flagged the candidate as suspicious; a flagged candidate is never kept. A
  // finding of reduced precision is not suspicious, only a label (reduced_precision()).
  bool flagged() const;
  // Why a check found the candidate's numbers coarser than fp32 (TF32, bf16, a global numeric
  // setting changed), else empty: the details of its kReducedPrecision findings.
  std::string reduced_precision() const;
  // Whether it may be kept under a run's precision: unflagged, and fp32 unless reduced precision
  // is allowed.
  bool Keepable(bool reduced_precision_allowed) const {
    return !flagged() && (reduced_precision_allowed || reduced_precision().empty());
  }
};

// One finding of a check (docs/worker_protocol.md, "Flags"): which check, and what it saw.
struct Flag {
  std::string check;   // static, state, reduced_precision, degenerate_problem, speed_of_light
  std::string detail;
  bool operator==(const Flag&) const = default;
};

// The finding that labels a candidate's numbers as coarser than fp32 without flagging it.
inline constexpr std::string_view kReducedPrecision = "reduced_precision";

// The findings of an evaluation's flags_json: objects {"check", "detail"}, or the plain strings of
// evaluations recorded before them (their check read from how they begin). Anything else in the
// array is a finding of check "unknown", so it still forbids keeping the candidate.
std::vector<Flag> ParseFlags(const std::string& flags_json);

// A finding as one line for people: its detail, a sentence that names what the check saw.
std::string FlagText(const Flag& flag);

// The smallest gain over eager a candidate must show to be kept (1%: above the spread of one
// problem's timing across processes on the H100, bench/results/2026-11-24-h100-gpu-check.md).
inline constexpr double kDefaultMinGain = 0.01;

// Whether a passed candidate is faster than eager: its Speedup() is at least 1 + `min_gain` and
// it is Keepable() under the run's precision.
bool ClearlyFaster(const Evaluation& evaluation, double min_gain,
                   bool reduced_precision_allowed = false);

}  // namespace kswarm::core
