// The configuration file (docs/config.md): TOML, read once at start. Flags on the command line
// override what it says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm::config {

struct RunConfig {
  std::optional<std::vector<std::string>> agents;  // [run] agents
  std::optional<std::string> precision;            // [run] precision: "fp32" or "reduced"
  std::optional<double> min_gain;                  // [run] min_gain: a fraction in [0, 10]
  std::optional<double> recipe_budget_s;           // [run] recipe_budget_s: seconds, > 0
};

// One LLM endpoint: a [[models]] table (docs/config.md).
struct ModelConfig {
  std::string name;  // the agent's name in reports; unique
  std::string api;   // "openai", "openai-compatible", "openai-responses", "anthropic"
  std::string model;
  std::string base_url;  // empty: the vendor's
  std::string key_env;   // empty: no key (a local server)
  int max_output_tokens = 16384;
  std::string reasoning_effort;  // "", "low", "medium", "high"
  double usd_per_mtok_in = 0;
  double usd_per_mtok_out = 0;
  int concurrency = 4;
  int attempts = 5;
  int max_retries = 5;
  double stall_timeout_s = 120;
  // The context configurations this model runs as, each a swarm member of its own (named
  // `name`, `name+reference`, `name+profile`, `name+both`): "none", "reference", "profile", "both".
  std::vector<std::string> contexts = {"none"};
  // Another [[models]] name whose model reads profiles and writes the advice for the next attempt
  // ("": the rule-based summary goes in as it is).
  std::string profile_helper;
  // What each of this model's members may spend over a run; unset is unlimited.
  std::optional<int64_t> max_tokens;
  std::optional<double> max_usd;
};

// [context]: where reference implementations come from (docs/config.md).
struct ContextConfig {
  std::string reference;  // a file, or a folder of files named after problems ("": none)
  bool inductor = true;   // else torch.compile's generated code for the problem
};

// [budget]: what LLM agents may spend over a run; unset is unlimited.
struct BudgetConfig {
  std::optional<int64_t> max_tokens;
  std::optional<double> max_usd;
  std::optional<double> max_wall_s;
};

// [executor]: where workers run (docs/executors.md).
struct ExecutorConfig {
  std::string kind = "local";  // "local" (this host's devices) or "slurm"
  int workers = 1;             // Slurm: how many workers, each a job step of its own
  std::string partition;       // Slurm: empty for the cluster's default
  std::string account;
  std::string time_limit;      // srun --time ("4:00:00"); empty: the partition's
  int gpus_per_worker = 1;     // on a CUDA target
  int cpus_per_worker = 1;     // cores of each worker step
  std::vector<std::string> srun_args;  // more srun options, passed as they are
  // How long a worker step may wait in Slurm's queue and start before the run gives up on it.
  double start_timeout_s = 3600;
};

struct Config {
  RunConfig run;
  ExecutorConfig executor;
  std::vector<ModelConfig> models;
  BudgetConfig budget;
  ContextConfig context;
};

// Parses TOML text; `origin` names it in error messages. kInvalidArgument for a syntax error or
// a value of the wrong type or range (the message gives the file, line and key).
Result<Config> ParseConfig(const std::string& text, const std::string& origin);

// Reads `path`; when `path` is empty, ./kswarm.toml if it exists, else an empty Config.
Result<Config> LoadConfig(const std::string& path);

}  // namespace kswarm::config
