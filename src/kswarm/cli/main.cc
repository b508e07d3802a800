// kswarm: the command line.
//
// Exit status: 0 evaluated (whatever the outcome), 2 bad input, 1 internal failure.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "kswarm/cli/eval_output.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/store/store.h"
#include "kswarm/supervisor/evaluate_candidate.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;

int Fail(const kswarm::Status& status) {
  std::fprintf(stderr, "kswarm: %s\n", status.message().c_str());
  return status.code() == kswarm::StatusCode::kInvalidArgument ? kExitBadInput : kExitInternal;
}

struct EvalFlags {
  std::string problem;
  std::string candidate;
  std::string device = "auto";
  int trials = 100;
  std::string tolerance = "seed";
  std::string shapes = "full";
  double timeout_s = 300;
  bool fresh = false;
  bool json = false;
};

int RunEval(const EvalFlags& flags, const std::string& db_path) {
  auto store = kswarm::store::Store::Open(db_path);
  if (!store) return Fail(store.error());

  kswarm::evaluator::WorkerConfig config = kswarm::evaluator::DefaultWorkerConfig();
  config.device = flags.device;
  kswarm::evaluator::Evaluator evaluator(config);

  kswarm::supervisor::CandidateRequest request;
  request.problem_path = flags.problem;
  request.candidate_path = flags.candidate;
  request.settings.trials = flags.trials;
  request.settings.tolerance = *kswarm::core::ParseTolerance(flags.tolerance);
  request.settings.shapes = flags.shapes;
  request.settings.timeout_s = flags.timeout_s;
  request.fresh = flags.fresh;

  auto result = kswarm::supervisor::EvaluateCandidate(**store, evaluator, request);
  if (!result) return Fail(result.error());
  if (flags.json) {
    std::printf("%s\n", kswarm::cli::EvalJson(*result).c_str());
  } else {
    std::fputs(kswarm::cli::EvalText(*result).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kswarm: verify and time PyTorch module rewrites against their reference"};
  app.set_version_flag("--version", "kswarm 0.1.0");
  app.require_subcommand(1);
  std::string db_path = "kswarm.db";

  EvalFlags eval;
  CLI::App* cmd = app.add_subcommand(
      "eval", "Check CANDIDATE (ModelNew) against PROBLEM (Model) and time both on one device");
  cmd->add_option("problem", eval.problem, "KernelBench-format problem file")->required();
  cmd->add_option("candidate", eval.candidate, "Python file defining ModelNew")->required();
  cmd->add_option("--device", eval.device, "cuda, cpu, or auto (cuda when present)")
      ->check(CLI::IsMember({"auto", "cuda", "cpu"}))
      ->capture_default_str();
  cmd->add_option("--trials", eval.trials, "correctness trials, each with fresh inputs")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--tolerance", eval.tolerance,
                  "seed: atol=rtol=1e-2; strict: 1e-4 (fp32), 1e-2 (fp16/bf16)")
      ->check(CLI::IsMember({"seed", "strict"}))
      ->capture_default_str();
  cmd->add_option("--shapes", eval.shapes,
                  "full, or small: the problem's KSWARM_SMALL_SHAPES (CPU-sized)")
      ->check(CLI::IsMember({"full", "small"}))
      ->capture_default_str();
  cmd->add_option("--timeout", eval.timeout_s, "deadline in seconds for the whole evaluation")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--db", db_path, "database file")->capture_default_str();
  cmd->add_flag("--fresh", eval.fresh, "evaluate even if the store has an answer");
  cmd->add_flag("--json", eval.json, "print the evaluation as one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  if (cmd->parsed()) return RunEval(eval, db_path);
  return kExitBadInput;
}
