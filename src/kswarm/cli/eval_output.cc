#include "kswarm/cli/eval_output.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::cli {
namespace {

using nlohmann::json;

json OrNull(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json TimingJson(const std::optional<core::TimingStats>& t) {
  if (!t) return nullptr;
  return {{"median_ms", t->median_ms}, {"iqr_ms", t->iqr_ms}, {"min_ms", t->min_ms},
          {"count", t->count}};
}

json ParsedOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(nullptr) : j;
}

std::string FormatMs(const core::TimingStats& t) {
  return fmt::format("{:.4g} ms fastest, {:.4g} ms median (IQR {:.3g} ms, n={})", t.min_ms,
                     t.median_ms, t.iqr_ms, t.count);
}

}  // namespace

std::string EvalJson(const supervisor::CandidateResult& r) {
  const core::Evaluation& e = r.record.evaluation;
  const core::Environment& env = r.record.environment;
  const core::EvalSettings& s = r.record.settings;
  json out = {
      {"outcome", std::string(core::OutcomeName(e.outcome))},
      {"speedup", OrNull(e.Speedup())},
      {"baseline_ms", e.baseline ? json(e.baseline->min_ms) : json(nullptr)},
      {"candidate_ms", e.candidate ? json(e.candidate->min_ms) : json(nullptr)},
      {"median_speedup", OrNull(e.MedianSpeedup())},
      {"max_abs_err", OrNull(e.max_abs_err)},
      {"max_rel_err", OrNull(e.max_rel_err)},
      {"message", e.message},
      {"baseline", TimingJson(e.baseline)},
      {"candidate", TimingJson(e.candidate)},
      {"failure", ParsedOrNull(e.failure_json)},
      {"trials", s.trials},
      {"trials_run", e.trials_run},
      {"tolerance", std::string(core::ToleranceName(s.tolerance))},
      {"shapes", s.shapes},
      {"seed", e.seed},
      {"wall_ms", e.wall_ms},
      {"phase_ms", ParsedOrNull(e.phase_ms_json)},
      {"flags", e.flags_json.empty() ? json::array() : ParsedOrNull(e.flags_json)},
      {"reduced_precision", e.reduced_precision().empty() ? json(nullptr)
                                                          : json(e.reduced_precision())},
      {"evaluation_id", r.record.id},
      {"cached", r.cached},
      {"problem", {{"name", r.problem.name}, {"path", r.problem.path},
                   {"level", r.problem.level ? json(*r.problem.level) : json(nullptr)},
                   {"sha256", r.problem.source_sha256}}},
      {"candidate_file", {{"path", r.candidate.path}, {"sha256", r.candidate.sha256}}},
      {"environment",
       {{"device_type", env.device_type},
        {"device_name", env.device_name},
        {"driver", env.driver},
        {"torch", env.torch_version},
        {"cuda", env.cuda_version},
        {"python", env.python_version},
        {"triton", env.triton_version},
        {"device", ParsedOrNull(env.device_json)},
        {"backend_flags", ParsedOrNull(env.backend_flags_json)},
        {"isolation", env.isolation}}},
  };
  return out.dump();
}

std::string EvalText(const supervisor::CandidateResult& r) {
  const core::Evaluation& e = r.record.evaluation;
  const core::Environment& env = r.record.environment;
  std::string out;
  std::string level = r.problem.level ? fmt::format(" (level {})", *r.problem.level) : "";
  out += fmt::format("problem    {}{}\n", r.problem.path, level);
  out += fmt::format("candidate  {} (sha256 {:.12})\n", r.candidate.path, r.candidate.sha256);
  std::string versions = fmt::format("torch {}", env.torch_version);
  if (env.device_type == "cuda" && !env.cuda_version.empty()) versions += ", CUDA " + env.cuda_version;
  if (!env.driver.empty()) versions += ", driver " + env.driver;
  out += fmt::format("device     {}: {} ({})\n", env.device_type, env.device_name, versions);
  if (!env.isolation.empty()) out += fmt::format("isolation  {}\n", env.isolation);
  out += fmt::format("checks     {} trials, tolerance {}, shapes {}, seed {}\n",
                     r.record.settings.trials, core::ToleranceName(r.record.settings.tolerance),
                     r.record.settings.shapes, e.seed);
  out += fmt::format("outcome    {}\n", core::OutcomeName(e.outcome));
  if (e.baseline && e.candidate) {
    out += fmt::format("eager      {}\n", FormatMs(*e.baseline));
    out += fmt::format("candidate  {}\n", FormatMs(*e.candidate));
    out += fmt::format("speedup    {:.3f}x (fastest calls; medians {:.3f}x)\n", *e.Speedup(),
                       *e.MedianSpeedup());
  }
  if (e.max_abs_err) {
    out += fmt::format("error      max abs {:.3g}, max rel {:.3g}\n", *e.max_abs_err,
                       e.max_rel_err.value_or(0));
  }
  for (const core::Flag& flag : core::ParseFlags(e.flags_json)) {
    bool label = flag.check == core::kReducedPrecision;
    out += (label ? "label      " : "flagged    ") + core::FlagText(flag) + "\n";
  }
  if (e.outcome != core::Outcome::kPassed && !e.message.empty()) {
    out += "message    " + e.message + "\n";
  }
  if (r.cached) {
    out += fmt::format("(answered from the store: evaluation #{} of {}; --fresh evaluates again)\n",
                       r.record.id, r.record.created_at);
  }
  return out;
}

}  // namespace kswarm::cli
