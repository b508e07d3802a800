#include "kswarm/core/evaluation.h"

#include <array>
#include <string>
#include <vector>
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

namespace {

// The flags of flags_json, a JSON array of strings written by the worker (or empty).
std::vector<std::string> Flags(const std::string& flags_json) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = flags_json.find('"', i)) != std::string::npos) {
    std::string flag;
    for (++i; i < flags_json.size() && flags_json[i] != '"'; ++i) {
      if (flags_json[i] == '\\' && i + 1 < flags_json.size()) ++i;  // an escaped character
      flag += flags_json[i];
    }
    ++i;
    out.push_back(std::move(flag));
  }
  return out;
}

bool IsReducedPrecisionFlag(const std::string& flag) {
  return flag.rfind(kReducedPrecisionFlag, 0) == 0;
}

}  // namespace

bool Evaluation::flagged() const {
  for (const std::string& flag : Flags(flags_json)) {
    if (!IsReducedPrecisionFlag(flag)) return true;
  }
  return false;
}

std::string Evaluation::reduced_precision() const {
  for (const std::string& flag : Flags(flags_json)) {
    if (IsReducedPrecisionFlag(flag)) return flag;
  }
  return "";
}

bool ClearlyFaster(const Evaluation& evaluation, double min_gain,
                   bool reduced_precision_allowed) {
  auto speedup = evaluation.Speedup();
  return speedup && *speedup >= 1.0 + min_gain && evaluation.Keepable(reduced_precision_allowed);
}


}  // namespace kswarm::core
