#include "kswarm/report/export.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/agents/builtin_agents.h"

namespace kswarm::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

// A Python module name for the problem: level prefix, anything else becomes '_'.
std::string ModuleName(const store::RunProblemRecord& p) {
  std::string name = p.level ? fmt::format("level{}_{}", *p.level, p.problem_name)
                             : "problem_" + p.problem_name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

bool Write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

bool ImportsRuntime(const std::string& source) {
  static const std::regex kImport(R"((^|\n)[ \t]*(import|from)[ \t]+kswarm_rt\b)");
  return std::regex_search(source, kImport);
}

// Copies the kswarm_rt package (its .py files) into out_dir/kswarm_rt.
Status CopyRuntime(const std::string& runtime_dir, const std::string& out_dir) {
  fs::path from = fs::path(runtime_dir) / "kswarm_rt";
  fs::path to = fs::path(out_dir) / "kswarm_rt";
  std::error_code ec;
  fs::create_directories(to, ec);
  int copied = 0;
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    if (entry.path().extension() != ".py") continue;
    fs::copy_file(entry.path(), to / entry.path().filename(),
                  fs::copy_options::overwrite_existing, ec);
    if (ec) break;
    ++copied;
  }
  if (ec || copied == 0) {
    return Status(StatusCode::kIoError, fmt::format("cannot copy the kswarm_rt package from {} "
                                                    "to {}", from.string(), to.string()));
  }
  return Status::Ok();
}

}  // namespace

Result<ExportResult> ExportRun(store::Store& store, const store::RunRecord& run,
                               const std::string& out_dir, const std::string& runtime_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    return Error(StatusCode::kIoError, fmt::format("cannot create {}: {}", out_dir, ec.message()));
  }
  auto verdicts = store.RunProblems(run.id);
  if (!verdicts) return Error(verdicts.error());

  auto evaluations = store.EvaluationsOfRun(run.id);
  if (!evaluations) return Error(evaluations.error());
  ordered_json environment = ordered_json::object();
  if (!evaluations->empty()) {
    const core::Environment& env = evaluations->front().environment;
    environment = {{"device_type", env.device_type}, {"device_name", env.device_name},
                   {"driver", env.driver},           {"torch", env.torch_version},
                   {"cuda", env.cuda_version},       {"python", env.python_version}};
  }

  ExportResult result;
  ordered_json entries = ordered_json::array();
  for (const store::RunProblemRecord& v : *verdicts) {
    if (v.status != "done") continue;
    ordered_json entry = {{"problem", v.problem_name},
                          {"level", v.level ? ordered_json(*v.level) : ordered_json(nullptr)},
                          {"problem_path", v.problem_path},
                          {"problem_sha256", v.problem_sha256},
                          {"eager_ms", v.eager_ms ? ordered_json(*v.eager_ms) : ordered_json()},
                          {"speedup", v.speedup.value_or(1.0)}};
    if (!v.best_evaluation_id) {
      entry["kept"] = "eager";
      entry["module"] = nullptr;
      ++result.kept_eager;
      entries.push_back(entry);
      continue;
    }
    auto evaluation = store.GetEvaluation(*v.best_evaluation_id);
    if (!evaluation) return Error(evaluation.error());
    auto candidate = store.GetCandidate((*evaluation)->candidate_id);
    if (!candidate) return Error(candidate.error());
    if (!evaluation->has_value() || !candidate->has_value()) {
      return Error(StatusCode::kInternal,
                   fmt::format("run {} names evaluation {} that the database lacks", run.name,
                               *v.best_evaluation_id));
    }
    const store::EvaluationRecord& e = **evaluation;
    std::string module = ModuleName(v);
    if (!Write(fs::path(out_dir) / (module + ".py"), (*candidate)->source)) {
      return Error(StatusCode::kIoError, fmt::format("cannot write {}/{}.py", out_dir, module));
    }
    ++result.modules;
    if (ImportsRuntime((*candidate)->source) && !result.runtime) {
      if (Status s = CopyRuntime(runtime_dir, out_dir); !s.ok()) return Error(s);
      result.runtime = true;
    }
    entry["kept"] = (*candidate)->generator;
    entry["module"] = module;
    entry["class"] = "ModelNew";
    entry["candidate_sha256"] = (*candidate)->sha256;
    entry["kept_ms"] = e.evaluation.candidate ? ordered_json(e.evaluation.candidate->min_ms)
                                              : ordered_json();
    entry["reduced_precision"] = agents::IsReducedPrecision((*candidate)->generator);
    entry["tolerance"] = std::string(core::ToleranceName(e.settings.tolerance));
    entry["trials"] = e.settings.trials;
    entry["evaluation_id"] = e.id;
    entries.push_back(entry);
  }
  ordered_json manifest = {
      {"kswarm_export", 1},
      {"run", {{"id", run.id}, {"name", run.name}, {"status", run.status}}},
      {"environment", environment},
      {"usage", "from <module> import ModelNew; use ModelNew wherever Model was built, with the "
                "same constructor arguments"},
      {"runtime", result.runtime ? ordered_json("kswarm_rt") : ordered_json(nullptr)},
      {"problems", entries}};
  if (!Write(fs::path(out_dir) / "manifest.json", manifest.dump(2) + "\n")) {
    return Error(StatusCode::kIoError, fmt::format("cannot write {}/manifest.json", out_dir));
  }
  return result;
}

}  // namespace kswarm::report
