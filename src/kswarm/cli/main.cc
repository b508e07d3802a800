// kswarm: the command line. Flags are parsed here; the work is in commands.cc.
//
// Exit status: 0 done (whatever the candidates' outcomes), 2 bad input, 1 internal failure.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "kswarm/cli/commands.h"

namespace {

// A whole number in [lo, hi]; CLI11's Range says only "not in range" for 2.5.
CLI::Validator WholeNumber(long lo, long hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        long v = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno != 0) {
          return fmt::format("{} is not a whole number", text);
        }
        if (v < lo || v > hi) return fmt::format("{} is not between {} and {}", text, lo, hi);
        return "";
      },
      fmt::format("INT in [{} - {}]", lo, hi));
}

// A number above 0 (CLI11's PositiveNumber prints DBL_MAX in full as its range).
CLI::Validator AboveZero() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0') return fmt::format("{} is not a number", text);
        if (!(v > 0) || !std::isfinite(v)) return fmt::format("{} must be above 0", text);
        return "";
      },
      "NUMBER > 0");
}

// The evaluation settings shared by `eval` and `run`.
void AddEvalOptions(CLI::App* cmd, kswarm::cli::EvalOptions& o) {
  cmd->add_option("--device", o.device, "cuda, cpu, or auto (cuda when present)")
      ->check(CLI::IsMember({"auto", "cuda", "cpu"}))
      ->capture_default_str();
  cmd->add_option("--trials", o.trials, "correctness trials, each with fresh inputs")
      ->check(WholeNumber(1, 100000))
      ->capture_default_str();
  cmd->add_option("--tolerance", o.tolerance,
                  "seed: atol=rtol=1e-2; strict: 1e-4 (fp32), 1e-2 (fp16/bf16)")
      ->check(CLI::IsMember({"seed", "strict"}))
      ->capture_default_str();
  cmd->add_option("--shapes", o.shapes,
                  "full, small: the problem's KSWARM_SMALL_SHAPES (CPU-sized), or large: "
                  "its KSWARM_LARGE_SHAPES (public benchmarks' sizes)")
      ->check(CLI::IsMember({"full", "small", "large"}))
      ->capture_default_str();
  cmd->add_option("--static-check", o.static_check,
                  "forbidden APIs in a candidate (frames, patching, threads, ...): reject it, or "
                  "report them as flags (a flagged candidate is never kept)")
      ->check(CLI::IsMember({"reject", "report"}))
      ->capture_default_str();
  cmd->add_flag("--uncontained", o.uncontained,
                "run candidates of models, replays and eval even where this host cannot contain "
                "them (no bubblewrap or no user namespaces): they could then read your files "
                "and keys");
  cmd->add_option("--timeout", o.timeout_s, "deadline in seconds for one evaluation, build included")
      ->check(AboveZero())
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kswarm::cli;
  CLI::App app{"kswarm: make PyTorch modules faster with verified candidate kernels"};
  app.set_version_flag("--version", "kswarm 0.1.0");
  app.require_subcommand(1);
  std::string db_path = "kswarm.db";

  EvalFlags eval;
  CLI::App* eval_cmd = app.add_subcommand(
      "eval", "Check CANDIDATE (ModelNew) against PROBLEM (Model) and time both on one device");
  eval_cmd->add_option("problem", eval.problem, "KernelBench-format problem file")->required();
  eval_cmd->add_option("candidate", eval.candidate, "Python file defining ModelNew")->required();
  AddEvalOptions(eval_cmd, eval.options);
  eval_cmd->add_flag("--fresh", eval.fresh, "evaluate even if the store has an answer");
  eval_cmd->add_flag("--json", eval.json, "print the evaluation as one JSON object");

  RunFlags run;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run the agents on every problem under PATHs, keep the fastest passed candidate");
  run_cmd->add_option("paths", run.paths, "problem files or folders (e.g. problems/level1)")
      ->required();
  run_cmd->add_option("--name", run.name,
                      "run name; running a name again resumes it (default: from the arguments)");
  run_cmd->add_option("--agents", run.agents, "built-in agents, comma-separated (default: the "
                                              "device's default set; torch_compile always runs)")
      ->delimiter(',');
  run_cmd->add_option("--replay", run.replay,
                      "recorded candidates to evaluate again as their generators' attempts: a "
                      "JSONL file or a folder of KernelBench level_L_problem_P_*.py files "
                      "(repeatable; built-ins then default to torch_compile only)");
  run_cmd->add_option("--models", run.models,
                      "LLM agents from the config's [[models]], comma-separated (default: all; "
                      "none: no LLM agent)")
      ->delimiter(',');
  run_cmd->add_option("--precision", run.precision,
                      "fp32 (default), or reduced: also allow TF32/bf16 agents (labelled in "
                      "reports)")
      ->check(CLI::IsMember({"fp32", "reduced"}));
  run_cmd->add_option("--min-gain", run.min_gain,
                      "keep a candidate only when its fastest timed call is at least this "
                      "fraction faster than eager's (default 0.01)")
      ->check(CLI::Range(0.0, 10.0));
  run_cmd->add_option("--recipe-budget", run.recipe_budget_s,
                      "seconds of evaluation recipe_search may spend on one problem (default 60)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--build-jobs", run.build_jobs,
                      "candidates compiled ahead of their evaluation at once, in processes that "
                      "see no GPU (default: one per CPU core; 0: each builds in its evaluation)")
      ->check(WholeNumber(0, 1024));
  run_cmd->add_option("--executor", run.executor,
                      "where workers run: local (this host's devices, default) or slurm (job "
                      "steps; the config's [executor] table, docs/executors.md)")
      ->check(CLI::IsMember({"local", "slurm"}));
  run_cmd->add_option("--workers", run.workers,
                      "Slurm workers, each a job step (default: the config's [executor] workers, "
                      "else 1)")
      ->check(WholeNumber(1, 4096));
  run_cmd->add_option("--reference", run.reference,
                      "reference implementations for LLM agents with a reference context: a file, "
                      "or a folder of files or folders named after the problems (default: the "
                      "config's [context] reference)");
  run_cmd->add_option("--config", run.config_path,
                      "TOML config file (default: ./kswarm.toml when present; flags win)");
  AddEvalOptions(run_cmd, run.options);

  OptimizeFlags optimize;
  CLI::App* optimize_cmd = app.add_subcommand(
      "optimize", "Make a whole model faster: split MODEL.py into problems, run the agents on "
                  "them, put the winners back and check the patched model end to end");
  optimize_cmd->add_option("model", optimize.model,
                           "a Python file defining get_model() and get_inputs()")
      ->required();
  optimize_cmd->add_option("--out", optimize.out,
                           "folder for the problems, winners and report (default: "
                           "<model>_kswarm)");
  optimize_cmd->add_option("--max-share", optimize.max_share,
                           "a part takes at most this share of the model's time")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  optimize_cmd->add_option("--min-share", optimize.min_share,
                           "leave out problems under this share of the model's time")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  optimize_cmd->add_option("--max-parts", optimize.max_parts, "the heaviest problems kept")
      ->check(WholeNumber(1, 10000))
      ->capture_default_str();
  optimize_cmd->add_option("--name", optimize.run.name, "the run's name (default: from the "
                                                        "arguments; the same command resumes)");
  optimize_cmd->add_option("--agents", optimize.run.agents, "built-in agents, comma-separated")
      ->delimiter(',');
  optimize_cmd->add_option("--models", optimize.run.models,
                           "LLM agents from the config's [[models]] (default: all; none)")
      ->delimiter(',');
  optimize_cmd->add_option("--precision", optimize.run.precision, "fp32 (default) or reduced")
      ->check(CLI::IsMember({"fp32", "reduced"}));
  optimize_cmd->add_option("--min-gain", optimize.run.min_gain,
                           "keep a candidate only when at least this fraction faster")
      ->check(CLI::Range(0.0, 10.0));
  optimize_cmd->add_option("--recipe-budget", optimize.run.recipe_budget_s,
                           "seconds of evaluation recipe_search may spend on one problem")
      ->check(CLI::PositiveNumber);
  optimize_cmd->add_option("--build-jobs", optimize.run.build_jobs,
                           "candidates compiled ahead at once (0: none)")
      ->check(WholeNumber(0, 1024));
  optimize_cmd->add_option("--config", optimize.run.config_path, "TOML config file");
  AddEvalOptions(optimize_cmd, optimize.run.options);

  ReportFlags report;
  CLI::App* report_cmd = app.add_subcommand("report", "Summarise a run like the seed study");
  report_cmd->add_option("run", report.run, "run name (default: the latest run)");
  report_cmd->add_option("--format", report.format,
                         "text, json, csv, or html (one self-contained page with SVG charts)")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}))
      ->capture_default_str();
  report_cmd->add_option("--out", report.out, "write to this file instead of standard output");

  ExportFlags export_flags;
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Write a run's winners as drop-in modules (ModelNew) with a manifest");
  export_cmd->add_option("run", export_flags.run, "run name (default: the latest run)");
  export_cmd->add_option("--out", export_flags.out, "folder to write")->required();

  ProblemsFlags problems;
  CLI::App* problems_cmd = app.add_subcommand(
      "problems", "Check problems under PATHs: degenerate answers that pass, the speed of light");
  problems_cmd->add_option("paths", problems.paths, "problem files or folders")->required();
  AddEvalOptions(problems_cmd, problems.options);
  problems_cmd->add_flag("--json", problems.json, "print one JSON object");

  AgentsFlags agents_flags;
  CLI::App* agents_cmd = app.add_subcommand(
      "agents", "List the built-in agents, or write the candidate one proposes for a problem");
  agents_cmd->add_option("name", agents_flags.name, "a built-in agent (none: list them all)");
  agents_cmd->add_option("problem", agents_flags.problem, "the problem file to write a candidate for");
  agents_cmd->add_option("--device", agents_flags.device, "the device type the candidate is for")
      ->check(CLI::IsMember({"cuda", "cpu"}))
      ->capture_default_str();
  agents_cmd->add_option("--out", agents_flags.out, "write to this file instead of standard output");

  DoctorFlags doctor;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor", "Check each configured model endpoint with one tiny call");
  doctor_cmd->add_option("--config", doctor.config_path,
                         "TOML config file (default: ./kswarm.toml when present)");

  for (CLI::App* cmd : {eval_cmd, run_cmd, optimize_cmd, report_cmd, export_cmd}) {
    cmd->add_option("--db", db_path, "database file")->capture_default_str();
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "kswarm: %s\nRun 'kswarm --help' (or 'kswarm COMMAND --help') for the "
                         "flags.\n", e.what());
    return kExitBadInput;
  }
  if (eval_cmd->parsed()) return Eval(eval, db_path);
  if (run_cmd->parsed()) return Run(run, db_path);
  if (optimize_cmd->parsed()) return Optimize(optimize, db_path);
  if (report_cmd->parsed()) return Report(report, db_path);
  if (export_cmd->parsed()) return Export(export_flags, db_path);
  if (problems_cmd->parsed()) return Problems(problems);
  if (doctor_cmd->parsed()) return Doctor(doctor);
  if (agents_cmd->parsed()) return Agents(agents_flags);
  return kExitBadInput;
}
