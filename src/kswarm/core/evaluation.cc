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
  if (outcome != Outcome::kPassed || !baseline || !candidate || candidate->median_ms <= 0) {
    return std::nullopt;
  }
  return baseline->median_ms / candidate->median_ms;
}

bool ClearlyFaster(const Evaluation& evaluation, double min_gain) {
  auto speedup = evaluation.Speedup();
  if (!speedup || *speedup < 1.0 + min_gain || evaluation.flagged()) return false;
  const TimingStats& b = *evaluation.baseline;
  const TimingStats& c = *evaluation.candidate;
  return c.median_ms + c.iqr_ms / 2 < b.median_ms - b.iqr_ms / 2;
}

bool ClearlyFasterThan(const Evaluation& a, const Evaluation& b, double min_gain) {
  auto sa = a.Speedup(), sb = b.Speedup();
  if (!sa || !sb || *sa < *sb * (1.0 + min_gain)) return false;
  double a_high = (a.candidate->median_ms + a.candidate->iqr_ms / 2) / a.baseline->median_ms;
  double b_low = (b.candidate->median_ms - b.candidate->iqr_ms / 2) / b.baseline->median_ms;
  return a_high < b_low;
}

}  // namespace kswarm::core
