// `kswarm optimize MODEL.py`: split, run, export, apply, check end to end (docs/optimize.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/cli/commands.h"
#include "kswarm/evaluator/tools.h"
#include "kswarm/report/export.h"
#include "kswarm/report/model_report.h"
#include "kswarm/store/store.h"
#include "kswarm/util/files.h"

namespace kswarm::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One kswarm_worker.split call (the user's model code runs there, as a problem's would); its
// answer, or the error in it as kInvalidArgument: what fails there is the model file's doing.
Result<json> Split(const evaluator::WorkerConfig& worker, const std::vector<std::string>& jail,
                   const std::vector<std::string>& args, double timeout_s) {
  auto line = evaluator::RunWorkerTool(worker, "split", jail, args, timeout_s);
  if (!line) return Error(line.error());
  json reply = json::parse(*line, nullptr, false);
  if (reply.contains("error")) {
    return Error(StatusCode::kInvalidArgument, reply.value("error", std::string()));
  }
  return reply;
}

// The winners of the run, with what apply() needs beside them: parts.json and kswarm_rt.
Status ExportWinners(const RunFlags& run, const fs::path& out, const std::string& db_path) {
  fs::path winners = out / "winners";
  std::error_code ec;
  fs::remove_all(winners, ec);  // no winner of an earlier split may stay behind
  ExportFlags flags;
  flags.run = run.name;
  flags.out = winners.string();
  if (int rc = Export(flags, db_path); rc != kExitOk) {
    return Status(StatusCode::kInternal, "the run's winners could not be exported");
  }
  fs::copy_file(out / "parts.json", winners / "parts.json", fs::copy_options::overwrite_existing,
                ec);
  if (ec) {
    return Status(StatusCode::kIoError, fmt::format("cannot copy parts.json: {}", ec.message()));
  }
  return report::CopyRuntime(evaluator::DefaultWorkerConfig().worker_dir, winners.string());
}

// The run just made: the one named, or the latest `kswarm run` (its name was derived).
Result<int64_t> RunId(const std::string& name, const std::string& db_path) {
  auto store = store::Store::OpenExisting(db_path);
  if (!store) return Error(store.error());
  auto run = name.empty() ? (*store)->LatestRun("run") : (*store)->FindRun(name);
  if (!run) return Error(run.error());
  if (!run->has_value()) return Error(StatusCode::kInternal, "the run just made is not recorded");
  return (**run).id;
}

// The end-to-end evaluation as the report states it: a flagged pass is no pass.
report::MeasuredModel Measured(const core::Evaluation& e) {
  report::MeasuredModel measured;
  measured.outcome = std::string(core::OutcomeName(e.outcome));
  measured.message = e.message;
  if (e.outcome == core::Outcome::kPassed && e.flagged()) {
    measured.outcome = "flagged";
    measured.message = e.flags_json;
  } else if (e.outcome == core::Outcome::kPassed && e.baseline && e.candidate) {
    // The fastest calls, as every speed-up kswarm reports (docs/verification.md)
    measured.raw_speedup = e.Speedup();
    measured.eager_ms = e.baseline->min_ms;
    measured.patched_ms = e.candidate->min_ms;
  }
  return measured;
}

// The patched model's figures beside the control's (the unpatched model, measured by the same
// rule).
report::MeasuredModel WithControl(report::MeasuredModel patched,
                                  const report::MeasuredModel& control) {
  if (control.outcome == "passed" && control.raw_speedup) {
    patched.control_speedup = control.raw_speedup;
  } else {
    patched.control_message = fmt::format(
        "the unpatched model was {} against the original: {:.200}", control.outcome,
        control.message);
  }
  return patched;
}

// DIR/whole/candidate.py (the model with what DIR/winners holds, less `drop`'s winner when one is
// named) and DIR/whole/control.py (the model unpatched) written; how many winners it applies.
Result<int> WritePatched(const evaluator::WorkerConfig& worker, const fs::path& out,
                         double timeout_s, const std::string& drop, const std::string& reason) {
  std::vector<std::string> args = {"--patched", "--out", out.string()};
  if (!drop.empty()) args.insert(args.end(), {"--drop", drop, "--reason", reason});
  // Writable: whole/, and the winners' manifest when one goes.
  auto written = Split(worker, {"--writable", out.string()}, args, timeout_s);
  if (!written) return Error(written.error());
  return written->value("winners", 0);
}

// DIR/whole/FILE evaluated against DIR/whole/problem.py, the original model, as any candidate is.
Result<core::Evaluation> EvaluateWhole(const fs::path& out, const char* file,
                                       const EvalOptions& options, const std::string& db_path) {
  EvalFlags whole;
  whole.problem = (out / "whole" / "problem.py").string();
  whole.candidate = (out / "whole" / file).string();
  whole.options = options;
  auto result = EvaluateFile(whole, db_path);
  if (!result) return Error(result.error());
  return result->record.evaluation;
}

// The parts and what DIR/winners keeps for each.
Result<report::ModelReport> ReadReport(const fs::path& out) {
  auto parts_text = ReadFile((out / "parts.json").string());
  if (!parts_text) return Error(parts_text.error());
  auto manifest_text = ReadFile((out / "winners" / "manifest.json").string());
  if (!manifest_text) return Error(manifest_text.error());
  return report::ReadModelReport(*parts_text, *manifest_text);
}

}  // namespace

int Optimize(const OptimizeFlags& flags, const std::string& db_path) {
  if (Status s = CheckInputFile(flags.model); !s.ok()) return Fail(s);
  std::error_code ec;
  fs::path model = fs::absolute(flags.model, ec);
  fs::path out = fs::absolute(
      flags.out.empty() ? fs::path(model.stem().string() + "_kswarm") : fs::path(flags.out), ec);
  fs::create_directories(out / "whole", ec);
  if (ec) return Fail(Status(StatusCode::kIoError, fmt::format("cannot create {}: {}",
                                                                out.string(), ec.message())));
  const EvalOptions& options = flags.run.options;
  evaluator::WorkerConfig worker = WorkerFor(options, db_path, flags.run.config_path);

  std::printf("kswarm: optimize %s: splitting the model into problems\n", model.c_str());
  std::fflush(stdout);
  auto split = Split(worker, {"--readable", model.parent_path().string(), "--writable", out.string()},
                     {"--model", model.string(), "--out", out.string(), "--device", options.device,
                      "--shapes", options.shapes, "--max-share", fmt::format("{}", flags.max_share),
                      "--min-share", fmt::format("{}", flags.min_share), "--max-parts",
                      std::to_string(flags.max_parts)},
                     options.timeout_s);
  if (!split) return Fail(split.error());
  int parts = split->value("parts", 0);
  std::printf("kswarm: %d problem(s) %s %s/problems, covering %.1f%% of the model's "
              "%.3f ms forward (parts.json says which submodules each stands for)\n",
              parts, split->value("reused", false) ? "of the earlier split of this model in"
                                                   : "written to",
              out.c_str(), 100 * split->value("covered_share", 0.0),
              split->value("model_ms", 0.0));
  if (parts == 0) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       fmt::format("no submodule of {} could be written as a problem; "
                                   "{}/parts.json lists why for each",
                                   model.string(), out.string())));
  }

  // The parts are concrete problems at the model's own shapes.
  RunFlags run = flags.run;
  run.paths = {(out / "problems").string()};
  run.options.shapes = "full";
  run.optimize_dir = out.string();
  fs::remove(out / "report.json", ec);  // an earlier check's, not this run's figures
  if (int rc = Run(run, db_path); rc != kExitOk) return rc;
  auto run_id = RunId(run.name, db_path);
  if (!run_id) return Fail(run_id.error());
  if (Status s = ExportWinners(run, out, db_path); !s.ok()) return Fail(s);

  // The whole model, original against patched, checked and timed like any candidate; a winner
  // goes while the patched model fails that check (WinnerToDrop). The unpatched model, contained
  // the same way, is the control its figure is divided by (docs/optimize.md, step 4).
  std::string drop, reason;
  std::optional<report::MeasuredModel> control;
  report::ModelReport report;
  for (;;) {
    auto winners = WritePatched(worker, out, options.timeout_s, drop, reason);
    if (!winners) return Fail(winners.error());
    auto read = ReadReport(out);
    if (!read) return Fail(read.error());
    report = std::move(*read);
    if (*winners == 0) {
      report.measured = report::MeasuredModel{
          "unchanged", "no winner is applied: the model is the original"};
      break;
    }
    if (!control) {
      auto evaluated = EvaluateWhole(out, "control.py", run.options, db_path);
      if (!evaluated) return Fail(evaluated.error());
      control = Measured(*evaluated);
    }
    auto patched = EvaluateWhole(out, "candidate.py", run.options, db_path);
    if (!patched) return Fail(patched.error());
    report.measured = WithControl(Measured(*patched), *control);
    auto next = report::WinnerToDrop(report.parts, *report.measured);
    if (!next) break;
    const report::MeasuredModel& m = *report.measured;
    drop = *next;
    std::optional<double> speedup = m.Speedup();
    reason = speedup ? fmt::format("with it the patched model was slower ({:.3f}x)", *speedup)
                     : fmt::format("with it the patched model was {}", m.outcome);
    std::printf("kswarm: %s: %.300s\nkswarm: taking out the winner of %s, which saves the least "
                "of the model's time, and checking again\n",
                reason.c_str(), m.message.c_str(), drop.c_str());
    std::fflush(stdout);
  }
  report.run_id = *run_id;
  if (Status s = WriteFile((out / "report.json").string(), report::RenderModelJson(report)); !s.ok()) {
    return Fail(s);
  }
  std::printf("\n%s", report::RenderModelText(report).c_str());
  bool any = std::any_of(report.parts.begin(), report.parts.end(),
                         [](const report::ModelPart& p) { return p.kept != "eager"; });
  if (any) {
    std::printf("Use it: model = kswarm_rt.apply(get_model(), \"%s\") with %s on sys.path "
                "(report.json has these figures)\n",
                (out / "winners").c_str(), (out / "winners").c_str());
  } else {
    std::printf("No winner to apply: the model stays as it is (report.json has these figures)\n");
  }
  return kExitOk;
}

}  // namespace kswarm::cli
