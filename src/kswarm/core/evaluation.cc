#include "kswarm/core/evaluation.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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

// How a plain-string finding (recorded before findings were objects) begins, and its check.
constexpr std::pair<std::string_view, std::string_view> kLegacyPrefixes[] = {
    {"static ", "static"},
    {"state left active", "state"},
    {"reduced precision", "reduced_precision"},
    {"degenerate problem", "degenerate_problem"},
    {"faster than the device allows", "speed_of_light"},
};

Flag FromText(const std::string& text) {
  for (const auto& [prefix, check] : kLegacyPrefixes) {
    if (text.rfind(prefix, 0) == 0) return Flag{std::string(check), text};
  }
  return Flag{"unknown", text};
}

}  // namespace

std::vector<Flag> ParseFlags(const std::string& flags_json) {
  std::vector<Flag> out;
  if (flags_json.empty()) return out;
  nlohmann::json j = nlohmann::json::parse(flags_json, nullptr, false);
  if (!j.is_array()) return {Flag{"unknown", flags_json}};
  for (const nlohmann::json& f : j) {
    if (f.is_string()) {
      out.push_back(FromText(f.get<std::string>()));
    } else if (f.is_object() && f.contains("check") && f["check"].is_string()) {
      out.push_back(Flag{f["check"].get<std::string>(),
                         f.contains("detail") && f["detail"].is_string()
                             ? f["detail"].get<std::string>()
                             : ""});
    } else {
      out.push_back(Flag{"unknown", f.dump()});
    }
  }
  return out;
}

std::string FlagText(const Flag& flag) { return flag.detail.empty() ? flag.check : flag.detail; }

bool Evaluation::flagged() const {
  for (const Flag& flag : ParseFlags(flags_json)) {
    if (flag.check != kReducedPrecision) return true;
  }
  return false;
}

std::string Evaluation::reduced_precision() const {
  std::string why;
  for (const Flag& flag : ParseFlags(flags_json)) {
    if (flag.check != kReducedPrecision) continue;
    why += (why.empty() ? "" : "; ") + FlagText(flag);
  }
  return why;
}

bool ClearlyFaster(const Evaluation& evaluation, double min_gain,
                   bool reduced_precision_allowed) {
  auto speedup = evaluation.Speedup();
  return speedup && *speedup >= 1.0 + min_gain && evaluation.Keepable(reduced_precision_allowed);
}


}  // namespace kswarm::core
