#include "kswarm/core/evaluation.h"

#include <array>
#include <utility>

namespace kswarm::core {
namespace {

constexpr std::array<std::pair<Outcome, std::string_view>, 7> kOutcomes = {{
    {Outcome::kPassed, "passed"},
    {Outcome::kWrong, "wrong"},
    {Outcome::kCompileError, "compile_error"},
    {Outcome::kRuntimeError, "runtime_error"},
    {Outcome::kTimeout, "timeout"},
    {Outcome::kCrashed, "crashed"},
    {Outcome::kRejected, "rejected"},
}};

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  for (const auto& [o, name] : kOutcomes) {
    if (o == outcome) return name;
  }
  return "unknown";
}

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (const auto& [o, n] : kOutcomes) {
    if (n == name) return o;
  }
  return std::nullopt;
}

std::string_view ToleranceName(Tolerance tolerance) {
  return tolerance == Tolerance::kStrict ? "strict" : "seed";
}

std::optional<Tolerance> ParseTolerance(std::string_view name) {
  if (name == "seed") return Tolerance::kSeed;
  if (name == "strict") return Tolerance::kStrict;
  return std::nullopt;
}

std::optional<double> Evaluation::Speedup() const {
  if (outcome != Outcome::kPassed || !baseline || !candidate) return std::nullopt;
  if (baseline->min_ms > 0 && candidate->min_ms > 0) return baseline->min_ms / candidate->min_ms;
  return MedianSpeedup();
}

std::optional<double> Evaluation::MedianSpeedup() const {
  if (outcome != Outcome::kPassed || !baseline || !candidate || candidate->median_ms <= 0) {
    return std::nullopt;
  }
  return baseline->median_ms / candidate->median_ms;
}

bool ClearlyFaster(const Evaluation& evaluation, double min_gain) {
  auto speedup = evaluation.Speedup();
  return speedup && *speedup >= 1.0 + min_gain && !evaluation.flagged();
}

bool NearMiss(const Evaluation& evaluation, double min_gain) {
  auto speedup = evaluation.Speedup();
  return speedup && !evaluation.flagged() && *speedup < 1.0 + min_gain &&
         *speedup * (1.0 + kNearMissBand) >= 1.0 + min_gain;
}

bool ClearlyFasterThan(const Evaluation& a, const Evaluation& b, double min_gain) {
  auto sa = a.Speedup(), sb = b.Speedup();
  return sa && sb && *sa >= *sb * (1.0 + min_gain);
}

bool WithinNoiseOf(const Evaluation& a, const Evaluation& b) {
  auto sa = a.Speedup(), sb = b.Speedup();
  return sa && sb && *sa * (1.0 + kNearMissBand) >= *sb;
}

}  // namespace kswarm::core
