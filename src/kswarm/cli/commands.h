// The subcommands behind the command line; main.cc only parses flags into these structs.
// Each returns the process exit status: 0 done, 2 bad input, 1 internal failure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kswarm/core/evaluation.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/supervisor/evaluate_candidate.h"
#include "kswarm/supervisor/verdict_policy.h"
#include "kswarm/util/status.h"

namespace kswarm::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;

// Settings every evaluating subcommand shares.
struct EvalOptions {
  std::string device = "auto";
  int trials = 100;
  std::string tolerance = "seed";
  std::string shapes = "full";
  double timeout_s = 300;
  std::string static_check = "reject";  // forbidden APIs in a candidate: reject, or report
  bool uncontained = false;  // run candidates of other authors even where no jail can be made
};

struct EvalFlags {
  std::string problem;
  std::string candidate;
  EvalOptions options;
  bool fresh = false;
  bool json = false;
};

struct RunFlags {
  std::vector<std::string> paths;
  std::string name;                 // empty: derived from the paths, device and agents
  std::vector<std::string> agents;  // empty: the config's, else the device's default set (only
                                    // torch_compile when replaying)
  std::vector<std::string> replay;  // recorded candidates: JSONL files or KernelBench folders
  std::vector<std::string> models;  // LLM agents from the config's [[models]]; empty: all;
                                    // "none": no LLM agent
  std::string precision;            // "fp32" or "reduced"; empty: the config's, else fp32
  std::string config_path;          // empty: ./kswarm.toml when present
  std::optional<double> min_gain;   // empty: the config's, else core::kDefaultMinGain
  // recipe_search's seconds of evaluation per problem; empty: the config's, else the default.
  std::optional<double> recipe_budget_s;
  // The verdict rule of a resumed run, as it began; empty: the default with min_gain.
  std::optional<supervisor::VerdictRule> verdict;
  int build_jobs = -1;              // candidates built ahead at once; 0: none; -1: one per core
  std::string executor;             // "local" or "slurm"; empty: the config's [executor] kind
  std::optional<int> workers;       // Slurm workers; empty: the config's [executor] workers
  std::string reference;            // reference implementations (file or folder); empty: the
                                    // config's [context] reference
  std::string optimize_dir;         // set by `kswarm optimize`: its output folder
  EvalOptions options;
};

// `kswarm optimize MODEL.py`: the model split into problems, the run over them (as `run`), its
// winners exported and applied, and the patched model checked end to end (docs/optimize.md).
struct OptimizeFlags {
  std::string model;  // MODEL.py: get_model() and get_inputs()
  std::string out;    // empty: <model's stem>_kswarm in the working folder
  double max_share = 0.5;    // a part takes at most this share of the model's time
  double min_share = 0.005;  // problems under this share are left out
  int max_parts = 24;        // the heaviest problems kept
  RunFlags run;              // run.paths is set to the written problems; options.shapes picks
                             // the model's shape set
};

struct DoctorFlags {
  std::string config_path;
};

struct ReportFlags {
  std::string run;  // name or id; empty: the latest `kswarm run`
  std::string format = "text";
  std::string out;  // empty: standard output
};

struct ExportFlags {
  std::string run;  // name; empty: the latest `kswarm run`
  std::string out;
};

struct AgentsFlags {
  std::string name;     // empty: list the built-in agents
  std::string problem;  // the problem file NAME writes its candidate for
  std::string device = "cuda";
  std::string out;  // empty: standard output
};

struct ProblemsFlags {
  std::vector<std::string> paths;
  EvalOptions options;  // device, shapes, tolerance, timeout (per problem)
  bool json = false;
};

// Whether a host's 1-minute load average on `cores` cores makes timings noise.
bool HostBusy(double load_average, int cores);
// The line `kswarm run` starts with: its name, the problems, the device and the agents.
std::string RunHeader(const std::string& name, size_t problems, const core::Environment& env,
                      size_t devices, const std::vector<std::string>& agents);

// What every command prints for a failure; the exit status of its code.
int Fail(const Status& status);
// A file the user named that must be there before any worker starts.
Status CheckInputFile(const std::string& path);
// The worker of an evaluating command: its device, the folders of kswarm's own that no jail may
// show (the database's; the config's), and the user's explicit choice to run uncontained.
evaluator::WorkerConfig WorkerFor(const EvalOptions& o, const std::string& db_path,
                                  const std::string& config_path);
// `kswarm eval`'s work: one candidate evaluated (or answered from the store) and recorded.
Result<supervisor::CandidateResult> EvaluateFile(const EvalFlags& flags,
                                                 const std::string& db_path);

int Eval(const EvalFlags& flags, const std::string& db_path);
// Probes problems, no candidate and no database: degenerate answers and the speed of light.
int Problems(const ProblemsFlags& flags);
int Export(const ExportFlags& flags, const std::string& db_path);
int Run(const RunFlags& flags, const std::string& db_path);
int Optimize(const OptimizeFlags& flags, const std::string& db_path);
int Report(const ReportFlags& flags, const std::string& db_path);
// Lists the built-in agents, or writes the candidate one of them proposes for a problem (the file
// `kswarm run` would evaluate), without evaluating it.
int Agents(const AgentsFlags& flags);
// One tiny call to each configured model endpoint: reachable, key accepted, streaming works.
int Doctor(const DoctorFlags& flags);

}  // namespace kswarm::cli
