#include "kswarm/report/model_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/report/summary.h"

namespace kswarm::report {

using nlohmann::json;
using nlohmann::ordered_json;

double PredictedSpeedup(const std::vector<ModelPart>& parts) {
  double covered = 0;
  for (const ModelPart& p : parts) covered += std::max(0.0, p.share);
  double scale = covered > 1 ? 1 / covered : 1;
  double time = 1 - std::min(covered, 1.0);
  for (const ModelPart& p : parts) {
    time += std::max(0.0, p.share) * scale / std::max(p.speedup, 1e-9);
  }
  return time > 0 ? 1 / time : 1;
}

Result<ModelReport> ReadModelReport(const std::string& parts_json,
                                    const std::string& manifest_json) {
  json parts = json::parse(parts_json, nullptr, false);
  json manifest = json::parse(manifest_json, nullptr, false);
  if (!parts.is_object() || !parts.contains("parts") || !parts["parts"].is_array()) {
    return Error(StatusCode::kInvalidArgument, "parts.json: not a kswarm optimize parts list");
  }
  if (!manifest.is_object() || !manifest.contains("problems")) {
    return Error(StatusCode::kInvalidArgument, "manifest.json: not a kswarm export manifest");
  }
  std::map<std::string, json> kept;
  for (const json& e : manifest["problems"]) {
    kept[e.value("problem_sha256", "")] = e;
  }
  ModelReport report;
  report.model = parts.value("model", "");
  report.device_type = parts.value("device_type", "");
  report.model_ms = parts.value("model_ms", 0.0);
  for (const json& p : parts["parts"]) {
    if (!p.is_object() || !p.contains("share") || !p["share"].is_number()) {
      return Error(StatusCode::kInvalidArgument, "parts.json: a part without its share");
    }
    ModelPart part;
    part.problem = p.value("problem", "");
    part.cls = p.value("class", "");
    part.modules = p.contains("modules") ? static_cast<int>(p["modules"].size()) : 0;
    part.share = p["share"].get<double>();
    part.kept = "eager";
    auto it = kept.find(p.value("problem_sha256", ""));
    if (it != kept.end() && it->second.value("module", json()).is_string()) {
      part.kept = it->second.value("kept", "");
      const json& s = it->second.value("speedup", json());
      part.speedup = s.is_number() ? std::max(1.0, s.get<double>()) : 1;
    }
    if (it != kept.end() && it->second.value("dropped", json()).is_string()) {
      part.dropped = it->second["dropped"].get<std::string>();
    }
    report.parts.push_back(part);
  }
  return report;
}

std::optional<double> MeasuredModel::Speedup() const {
  if (outcome != "passed" || !raw_speedup) return std::nullopt;
  return control_speedup && *control_speedup > 0 ? *raw_speedup / *control_speedup : *raw_speedup;
}

std::optional<std::string> WinnerToDrop(const std::vector<ModelPart>& parts,
                                        const MeasuredModel& measured) {
  std::optional<double> speedup = measured.Speedup();
  bool accepted = speedup && *speedup >= 1.0;
  if (accepted) return std::nullopt;
  const ModelPart* least = nullptr;
  double least_saved = 0;
  for (const ModelPart& p : parts) {
    if (p.kept == "eager") continue;
    double saved = p.share * (1 - 1 / std::max(p.speedup, 1.0));  // of the model's time
    if (!least || saved < least_saved) {
      least = &p;
      least_saved = saved;
    }
  }
  if (!least) return std::nullopt;
  return least->problem;
}

namespace {

std::string ShortClass(const std::string& cls) {
  size_t dot = cls.rfind('.');
  return dot == std::string::npos ? cls : cls.substr(dot + 1);
}

}  // namespace

std::string RenderModelText(const ModelReport& r) {
  std::string out = fmt::format("Model {} on {}: {:.3f} ms per forward, split into {} part(s)\n",
                                r.model, r.device_type, r.model_ms, r.parts.size());
  out += fmt::format("  {:<28} {:<18} {:>7} {:>7}  {:<24} {}\n", "part", "class", "modules",
                     "share", "kept", "speedup");
  double covered = 0;
  for (const ModelPart& p : r.parts) {
    covered += p.share;
    out += fmt::format("  {:<28} {:<18} {:>7} {:>6.1f}%  {:<24} {}\n", p.problem,
                       ShortClass(p.cls), p.modules, 100 * p.share, p.kept,
                       FormatSpeedup(p.speedup));
    if (!p.dropped.empty()) out += fmt::format("    taken out: {}\n", p.dropped);
  }
  out += fmt::format("  parts cover {:.1f}% of the model's time; the rest runs as it was\n",
                     100 * std::min(covered, 1.0));
  out += fmt::format("Whole model: predicted by the parts {}", FormatSpeedup(PredictedSpeedup(r.parts)));
  if (!r.measured) return out + "; not measured\n";
  const MeasuredModel& m = *r.measured;
  if (m.outcome == "unchanged") return out + fmt::format("; {}\n", m.message);
  if (std::optional<double> speedup = m.Speedup()) {
    out += fmt::format(", measured end to end {}", FormatSpeedup(*speedup));
    if (m.eager_ms && m.patched_ms) {
      out += fmt::format(" (eager {:.3f} ms, patched {:.3f} ms, fastest calls", *m.eager_ms,
                         *m.patched_ms);
    }
    if (m.control_speedup) {
      out += fmt::format("; {} over eager, divided by the {} of the unpatched model contained "
                         "the same way)\n",
                         FormatSpeedup(*m.raw_speedup), FormatSpeedup(*m.control_speedup));
    } else {
      out += fmt::format("; no control: {})\n", m.control_message);
    }
    return out;
  }
  return out + fmt::format("; the patched model did not pass its end-to-end check ({}): {}\n",
                           m.outcome, m.message);
}

std::string RenderModelJson(const ModelReport& r) {
  ordered_json parts = ordered_json::array();
  for (const ModelPart& p : r.parts) {
    parts.push_back({{"problem", p.problem}, {"class", p.cls}, {"modules", p.modules},
                     {"share", p.share}, {"kept", p.kept}, {"speedup", p.speedup},
                     {"dropped", p.dropped.empty() ? ordered_json() : ordered_json(p.dropped)}});
  }
  ordered_json out = {{"run_id", r.run_id},
                      {"model", r.model},
                      {"device_type", r.device_type},
                      {"model_ms", r.model_ms},
                      {"parts", parts},
                      {"predicted_speedup", PredictedSpeedup(r.parts)}};
  if (r.measured) {
    auto opt = [](const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(); };
    const MeasuredModel& m = *r.measured;
    out["measured"] = {{"outcome", m.outcome},
                       {"message", m.message},
                       {"speedup", opt(m.Speedup())},
                       {"raw_speedup", opt(m.raw_speedup)},
                       {"control_speedup", opt(m.control_speedup)},
                       {"control_message", m.control_message},
                       {"eager_ms", opt(m.eager_ms)},
                       {"patched_ms", opt(m.patched_ms)}};
  } else {
    out["measured"] = nullptr;
  }
  return out.dump(2) + "\n";
}

Result<ModelReport> ParseModelReportJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [](const char* what) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("report.json: not a kswarm optimize report ({})", what));
  };
  if (!j.is_object() || !j.contains("parts") || !j["parts"].is_array()) return bad("no parts");
  try {
    ModelReport r;
    r.run_id = j.value("run_id", int64_t{0});
    r.model = j.value("model", "");
    r.device_type = j.value("device_type", "");
    r.model_ms = j.value("model_ms", 0.0);
    for (const json& p : j["parts"]) {
      const json& dropped = p.value("dropped", json());
      r.parts.push_back(ModelPart{p.at("problem").get<std::string>(),
                                  p.at("class").get<std::string>(), p.at("modules").get<int>(),
                                  p.at("share").get<double>(), p.at("kept").get<std::string>(),
                                  p.at("speedup").get<double>(),
                                  dropped.is_string() ? dropped.get<std::string>() : ""});
    }
    const json& m = j.value("measured", json());
    if (m.is_object()) {
      auto opt = [&m](const char* key) {
        return m.contains(key) && m[key].is_number() ? std::optional<double>(m[key].get<double>())
                                                     : std::nullopt;
      };
      MeasuredModel measured;
      measured.outcome = m.at("outcome").get<std::string>();
      measured.message = m.at("message").get<std::string>();
      // A report written before the control existed has the raw figure as its speed-up.
      measured.raw_speedup = m.contains("raw_speedup") ? opt("raw_speedup") : opt("speedup");
      measured.control_speedup = opt("control_speedup");
      measured.control_message = m.value("control_message", "");
      measured.eager_ms = opt("eager_ms");
      measured.patched_ms = opt("patched_ms");
      r.measured = measured;
    }
    return r;
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

}  // namespace kswarm::report
