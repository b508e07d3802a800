#include "kswarm/report/export.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/agents/builtin_agents.h"
#include "kswarm/report/summary.h"
#include "kswarm/util/files.h"

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

bool ImportsRuntime(const std::string& source) {
  static const std::regex kImport(R"((^|\n)[ \t]*(import|from)[ \t]+kswarm_rt\b)");
  return std::regex_search(source, kImport);
}

}  // namespace

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

namespace {

// PEP 263: an encoding declaration is honoured on a module's first or second line.
bool IsEncodingLine(const std::string& line) {
  static const std::regex kCoding(R"(^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+)");
  return std::regex_search(line, kCoding);
}

// The manifest's fields of every problem: its times come from one evaluation (RowTimes).
ordered_json Entry(const store::RunProblemRecord& v, const RowTimes& times,
                   const std::string& shapes) {
  return {{"problem", v.problem_name},
          {"level", v.level ? ordered_json(*v.level) : ordered_json(nullptr)},
          {"problem_path", v.problem_path},
          {"problem_sha256", v.problem_sha256},
          {"eager_ms", times.eager_ms ? ordered_json(*times.eager_ms) : ordered_json()},
          {"speedup", times.speedup},
          {"shapes", shapes}};
}

struct Winner {
  ordered_json entry;    // in the manifest
  bool imports_runtime;  // needs kswarm_rt beside it
};

// Writes the kept candidate of `v` as DIR/<module>.py; `of_problem` are the problem's evaluations
// in the run.
Result<Winner> ExportWinner(store::Store& store, const store::RunRecord& run,
                            const store::RunProblemRecord& v,
                            const std::vector<const store::EvaluationRecord*>& of_problem,
                            const std::string& device, const std::string& out_dir) {
  auto lacks = [&] {
    return Status(StatusCode::kInternal,
                  fmt::format("run {} names evaluation {} that the database lacks", run.name,
                              *v.best_evaluation_id));
  };
  auto evaluation = store.GetEvaluation(*v.best_evaluation_id);
  if (!evaluation) return Error(evaluation.error());
  if (!evaluation->has_value()) return Error(lacks());
  auto candidate = store.GetCandidate((*evaluation)->candidate_id);
  if (!candidate) return Error(candidate.error());
  if (!candidate->has_value()) return Error(lacks());
  const store::EvaluationRecord& e = **evaluation;
  const store::CandidateRecord& c = **candidate;
  RowTimes times = TimesOf(&e, nullptr, {});  // eager and kept from the kept evaluation
  std::string module = ModuleName(v);
  std::string header =
      ModuleHeader(c.generator, v.problem_name, run.name, times.speedup, device, e.settings.shapes);
  if (Status s = WriteFile((fs::path(out_dir) / (module + ".py")).string(),
                           WithHeader(c.source, header));
      !s.ok()) {
    return Error(s);
  }
  ordered_json entry = Entry(v, times, e.settings.shapes);
  entry["kept"] = c.generator;
  entry["module"] = module;
  entry["class"] = "ModelNew";
  entry["candidate_sha256"] = c.sha256;
  entry["kept_ms"] = times.kept_ms ? ordered_json(*times.kept_ms) : ordered_json();
  entry["reduced_precision"] = agents::IsReducedPrecision(c.generator);
  entry["tolerance"] = std::string(core::ToleranceName(e.settings.tolerance));
  // The trials it passed: its first evaluation's (the run's setting); a fresh sample checks fewer.
  int trials = e.settings.trials;
  for (const store::EvaluationRecord* other : of_problem) {
    if (other->candidate_id == e.candidate_id &&
        other->evaluation.outcome == core::Outcome::kPassed) {
      trials = std::max(trials, other->settings.trials);
    }
  }
  entry["trials"] = trials;
  entry["evaluation_id"] = e.id;
  return Winner{entry, ImportsRuntime(c.source)};
}

}  // namespace

std::string ModuleHeader(const std::string& agent, const std::string& problem,
                         const std::string& run, double speedup, const std::string& device,
                         const std::string& shapes) {
  auto one_line = [](std::string s) {  // a name with a newline would end the comment
    std::replace_if(s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return s;
  };
  return fmt::format(
      "# kswarm export: {}'s candidate for {}, kept in run '{}': {} over eager on {},\n"
      "# measured at shapes {}.\n",
      one_line(agent), one_line(problem), one_line(run), FormatSpeedup(speedup),
      device.empty() ? "an unknown device" : one_line(device), ShapesNote(shapes));
}

std::string WithHeader(const std::string& source, const std::string& header) {
  std::vector<size_t> ends;  // where the first two lines end (after their newline)
  for (size_t pos = 0; ends.size() < 2;) {
    size_t nl = source.find('\n', pos);
    if (nl == std::string::npos) break;
    ends.push_back(nl + 1);
    pos = nl + 1;
  }
  auto line = [&](size_t i) {
    size_t begin = i == 0 ? 0 : ends[i - 1];
    return source.substr(begin, ends[i] - begin);
  };
  size_t keep = 0;  // lines to leave above the header
  if (!ends.empty() && IsEncodingLine(line(0))) {
    keep = 1;
  } else if (ends.size() == 2 && line(0).rfind('#', 0) == 0 && IsEncodingLine(line(1))) {
    keep = 2;
  } else if (!ends.empty() && line(0).rfind("#!", 0) == 0) {
    keep = 1;
  }
  size_t at = keep == 0 ? 0 : ends[keep - 1];
  return source.substr(0, at) + header + source.substr(at);
}

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
  std::string device;
  if (!evaluations->empty()) {
    const core::Environment& env = evaluations->front().environment;
    environment = {{"device_type", env.device_type}, {"device_name", env.device_name},
                   {"driver", env.driver},           {"torch", env.torch_version},
                   {"cuda", env.cuda_version},       {"python", env.python_version}};
    device = fmt::format("{}: {}", env.device_type, env.device_name);
  }
  const std::string shapes = ShapeSet(run.config_json, *evaluations);
  std::map<int64_t, std::vector<const store::EvaluationRecord*>> of_problem;
  std::map<int64_t, const store::EvaluationRecord*> by_id;
  for (const auto& e : *evaluations) {
    of_problem[e.problem_id].push_back(&e);
    by_id[e.id] = &e;
  }

  ExportResult result;
  ordered_json entries = ordered_json::array();
  for (const store::RunProblemRecord& v : *verdicts) {
    if (v.status != "done") continue;
    if (!v.best_evaluation_id) {
      // Eager's time from one evaluation, as the report's row gives it.
      auto compile = v.compile_evaluation_id ? by_id.find(*v.compile_evaluation_id) : by_id.end();
      RowTimes times = TimesOf(nullptr, compile == by_id.end() ? nullptr : compile->second,
                               of_problem[v.problem_id]);
      ordered_json entry = Entry(v, times, shapes);
      entry["kept"] = "eager";
      entry["module"] = nullptr;
      entries.push_back(entry);
      ++result.kept_eager;
      continue;
    }
    auto winner = ExportWinner(store, run, v, of_problem[v.problem_id], device, out_dir);
    if (!winner) return Error(winner.error());
    entries.push_back(winner->entry);
    ++result.modules;
    if (winner->imports_runtime && !result.runtime) {
      if (Status s = CopyRuntime(runtime_dir, out_dir); !s.ok()) return Error(s);
      result.runtime = true;
    }
  }
  ordered_json manifest = {
      {"kswarm_export", 1},
      {"run", {{"id", run.id}, {"name", run.name}, {"status", run.status}}},
      {"environment", environment},
      {"shapes", shapes},
      {"shapes_note", ShapesNote(shapes)},
      {"usage", "from <module> import ModelNew; use ModelNew wherever Model was built, with the "
                "same constructor arguments"},
      {"runtime", result.runtime ? ordered_json("kswarm_rt") : ordered_json(nullptr)},
      {"problems", entries}};
  if (Status s = WriteFile((fs::path(out_dir) / "manifest.json").string(),
                           manifest.dump(2) + "\n");
      !s.ok()) {
    return Error(s);
  }
  return result;
}

}  // namespace kswarm::report
