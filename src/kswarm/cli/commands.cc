#include "kswarm/cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/agents/builtin_agents.h"
#include "kswarm/agents/llm_agent.h"
#include "kswarm/agents/recipe_search.h"
#include "kswarm/agents/replay_agent.h"
#include "kswarm/llm/client.h"
#include "kswarm/cli/eval_output.h"
#include "kswarm/config/config.h"
#include "kswarm/cli/problems_output.h"
#include "kswarm/cli/progress.h"
#include "kswarm/evaluator/build_pool.h"
#include "kswarm/evaluator/evaluator.h"
#include "kswarm/executor/slurm.h"
#include "kswarm/report/export.h"
#include "kswarm/report/html.h"
#include "kswarm/report/render.h"
#include "kswarm/report/summary.h"
#include "kswarm/store/store.h"
#include "kswarm/supervisor/evaluate_candidate.h"
#include "kswarm/supervisor/problem_file.h"
#include "kswarm/supervisor/run_plan.h"
#include "kswarm/supervisor/suite.h"
#include "kswarm/util/cpus.h"
#include "kswarm/util/environment.h"
#include "kswarm/util/file_lock.h"
#include "kswarm/util/redact.h"
#include "kswarm/util/files.h"
#include "kswarm/cli/interrupt.h"

extern char** environ;

namespace kswarm::cli {

int Fail(const Status& status) {
  std::fprintf(stderr, "kswarm: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitBadInput : kExitInternal;
}

Status CheckInputFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status(StatusCode::kInvalidArgument, fmt::format("{}: no such file", path));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return Status(StatusCode::kInvalidArgument, fmt::format("{}: a folder, not a file", path));
  }
  return Status::Ok();
}

evaluator::WorkerConfig WorkerFor(const EvalOptions& o, const std::string& db_path,
                                  const std::string& config_path) {
  evaluator::WorkerConfig config = evaluator::DefaultWorkerConfig();
  config.device = o.device;
  for (const std::string& path : {db_path, config_path}) {
    if (path.empty()) continue;
    std::error_code ec;
    auto dir = std::filesystem::absolute(path, ec).parent_path();
    if (!ec) config.private_dirs.push_back(dir.string());
  }
  if (o.uncontained) config.extra_env.push_back("KSWARM_UNCONTAINED=1");
  return config;
}

namespace {

using nlohmann::json;

// A command's text to standard output, or to the file `out_path` names when it is not empty.
int Emit(const std::string& text, const std::string& out_path) {
  if (out_path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  if (Status s = WriteFile(out_path, text); !s.ok()) return Fail(s);
  return kExitOk;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

core::EvalSettings Settings(const EvalOptions& o) {
  core::EvalSettings s;
  s.trials = o.trials;
  s.tolerance = core::ParseTolerance(o.tolerance).value_or(core::Tolerance::kSeed);
  s.shapes = o.shapes;
  s.timeout_s = o.timeout_s;
  s.static_policy = o.static_check;
  return s;
}

// The verdict rule a run decides with (docs/verification.md, "The verdict"): the one it began
// with when resumed, else the default with the run's minimum gain.
supervisor::VerdictRule RuleOf(const RunFlags& f) {
  supervisor::VerdictRule r = f.verdict.value_or(supervisor::VerdictRule{});
  if (!f.verdict) r.min_gain = f.min_gain.value_or(core::kDefaultMinGain);
  return r;
}

// The plan a new run is stored with (supervisor/run_plan.h); members and budget come after.
supervisor::RunPlan PlanOf(const RunFlags& f, const std::string& device_type,
                           const std::vector<std::string>& agents) {
  supervisor::RunPlan p;
  p.paths = f.paths;
  p.device = device_type;
  p.agents = agents;
  p.replay = f.replay;
  p.models = f.models;
  p.precision = f.precision;
  p.trials = f.options.trials;
  p.tolerance = f.options.tolerance;
  p.shapes = f.options.shapes;
  p.timeout_s = f.options.timeout_s;
  p.static_check = f.options.static_check;
  p.reference = f.reference;
  p.min_gain = f.min_gain.value_or(core::kDefaultMinGain);
  p.selection = "fastest_calls";  // what the speed-ups compare (docs/verification.md)
  p.verdict = RuleOf(f);
  p.recipe_budget_s = f.recipe_budget_s.value_or(agents::kDefaultRecipeBudgetS);
  p.optimize_dir = f.optimize_dir;
  return p;
}

// A stored run's plan back into flags, so a resumed run continues as it began.
RunFlags FromPlan(const supervisor::RunPlan& p, RunFlags flags) {
  flags.agents = p.agents;
  flags.replay = p.replay;
  flags.models = p.models;
  flags.precision = p.precision;
  flags.options.trials = p.trials;
  flags.options.tolerance = p.tolerance;
  if (!p.shapes.empty()) flags.options.shapes = p.shapes;
  flags.options.timeout_s = p.timeout_s;
  if (!p.device.empty()) flags.options.device = p.device;
  flags.options.static_check = p.static_check;
  if (p.min_gain > 0) flags.min_gain = p.min_gain;
  if (p.verdict) flags.verdict = p.verdict;
  if (p.recipe_budget_s > 0) flags.recipe_budget_s = p.recipe_budget_s;
  flags.reference = p.reference;
  if (flags.optimize_dir.empty()) flags.optimize_dir = p.optimize_dir;
  return flags;
}

llm::Endpoint ToEndpoint(const config::ModelConfig& m) {
  llm::Endpoint e;
  e.name = m.name;
  e.api = llm::ParseApi(m.api).value_or(llm::Api::kOpenAi);  // validated by the config parser
  e.base_url = m.base_url;
  e.model = m.model;
  e.key_env = m.key_env;
  e.max_output_tokens = m.max_output_tokens;
  e.reasoning_effort = m.reasoning_effort;
  e.usd_per_mtok_in = m.usd_per_mtok_in;
  e.usd_per_mtok_out = m.usd_per_mtok_out;
  e.concurrency = m.concurrency;
  e.max_retries = m.max_retries;
  e.stall_timeout_ms = static_cast<long>(m.stall_timeout_s * 1000);
  return e;
}

// The configured models `wanted` names (all when empty, none for {"none"}).
Result<std::vector<config::ModelConfig>> PickModels(const config::Config& config,
                                                    const std::vector<std::string>& wanted) {
  if (wanted.size() == 1 && wanted[0] == "none") return std::vector<config::ModelConfig>{};
  if (wanted.empty()) return config.models;
  std::vector<config::ModelConfig> out;
  for (const std::string& name : wanted) {
    auto it = std::find_if(config.models.begin(), config.models.end(),
                           [&](const auto& m) { return m.name == name; });
    if (it == config.models.end()) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("--models: no [[models]] named '{}' in the config", name));
    }
    out.push_back(*it);
  }
  return out;
}

// The lock a `kswarm run` holds on its database while it runs.
std::string RunLockPath(const std::string& db_path) { return db_path + ".run-lock"; }

// Every model the run calls (and their profile helpers) has its key in the environment, so a
// missing key stops the run before it starts rather than failing each call.
Status CheckKeys(const config::Config& config, const std::vector<config::ModelConfig>& models) {
  std::vector<std::string> missing;
  auto check = [&](const config::ModelConfig& m) {
    const char* value = m.key_env.empty() ? nullptr : std::getenv(m.key_env.c_str());
    if (!m.key_env.empty() && (value == nullptr || *value == '\0')) {
      missing.push_back(fmt::format("model '{}' reads its key from ${}, which is not set",
                                    m.name, m.key_env));
    }
  };
  for (const config::ModelConfig& m : models) {
    check(m);
    for (const config::ModelConfig& helper : config.models) {
      if (!m.profile_helper.empty() && helper.name == m.profile_helper) check(helper);
    }
  }
  if (missing.empty()) return Status::Ok();
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return Status(StatusCode::kInvalidArgument,
                fmt::format("{}; set it, or leave the model out with --models (kswarm doctor "
                            "checks every endpoint)",
                            fmt::join(missing, "; ")));
}

// Candidates of anyone but kswarm's own recipes run only in a jail, unless the user said
// otherwise; where none can be made, kswarm's own recipes run and the user hears why.
Status CheckContainment(const evaluator::HelloReply& hello, bool other_authors, bool allowed) {
  if (hello.contained) return Status::Ok();
  if (other_authors && !allowed) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("cannot contain candidate code on this host: {}; install "
                              "bubblewrap (scripts/setup.sh does), or pass --uncontained to run "
                              "candidates of models, replays and eval anyway",
                              hello.env.isolation));
  }
  std::fprintf(stderr, "kswarm: warning: candidates run %s\n", hello.env.isolation.c_str());
  return Status::Ok();
}

// Every configured key's value, and every value of a variable named like a secret, is taken out
// of what comes back from workers (util/redact.h).
void RegisterSecrets(const std::vector<config::ModelConfig>& models) {
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos && IsSecretName(entry.substr(0, eq))) {
      AddSecret(entry.substr(eq + 1));
    }
  }
  for (const config::ModelConfig& m : models) {
    if (const char* v = m.key_env.empty() ? nullptr : std::getenv(m.key_env.c_str())) AddSecret(v);
  }
}

// Timings taken on a busy host are noise: say so before the run starts.
void WarnIfBusy() {
  double load = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (HostBusy(load, cores)) {
    std::fprintf(stderr,
                 "kswarm: warning: this host is busy (load average %.2f on %d cores): timings "
                 "will be noisy and speed-ups may not hold on a quiet machine\n",
                 load, cores);
  }
}

}  // namespace

bool HostBusy(double load_average, int cores) {
  return cores > 0 && load_average > 0.5 * cores;
}

std::string RunHeader(const std::string& name, size_t problems, const core::Environment& env,
                      size_t devices, const std::vector<std::string>& agents) {
  std::string device = env.device_type;
  if (!env.device_name.empty()) device += " (" + env.device_name + ")";
  if (devices > 1) device += fmt::format(" x{}", devices);
  return fmt::format("kswarm: run '{}': {} problem{} on {}; agents: {}\n", name, problems,
                     problems == 1 ? "" : "s", device, fmt::join(agents, ", "));
}

int Doctor(const DoctorFlags& flags) {
  auto config = config::LoadConfig(flags.config_path);
  if (!config) return Fail(config.error());
  if (config->models.empty()) {
    return Fail(Status(StatusCode::kInvalidArgument, "the config has no [[models]]"));
  }
  int failed = 0;
  for (const auto& m : config->models) {
    llm::Endpoint e = ToEndpoint(m);
    e.max_output_tokens = std::min(e.max_output_tokens, 64);
    e.reasoning_effort.clear();
    e.max_retries = 1;
    llm::HttpChatClient client(e);
    auto r = client.Chat({"", {{"user", "Reply with the single word: ok"}}});
    if (r) {
      std::printf("%-24s ok   %s %s: %.0f ms, %lld tokens in, %lld out\n", m.name.c_str(),
                  m.api.c_str(), m.model.c_str(), r->latency_ms,
                  static_cast<long long>(r->reply.tokens_in),
                  static_cast<long long>(r->reply.tokens_out));
    } else {
      ++failed;
      std::printf("%-24s FAIL %s %s: %s\n", m.name.c_str(), m.api.c_str(), m.model.c_str(),
                  r.error().message().c_str());
    }
  }
  return failed ? kExitInternal : kExitOk;
}

// On CUDA, with cores to spare, each of `workers` workers times on a core of its own and this
// thread, with everything it starts from now on, runs on the rest (util/cpus.h). One plan per
// worker, or none. KSWARM_PIN_TIMING=0 turns it off.
std::vector<CpuPlan> PlaceTiming(const std::string& device_type, int workers) {
  const char* off = std::getenv("KSWARM_PIN_TIMING");
  if (device_type != "cuda" || (off && std::string(off) == "0")) return {};
  auto plans = PlanTimingCpus(AllowedCpus(), workers, CpuSiblings);
  if (plans.empty()) return {};
  if (Status s = RestrictThisThread(plans.front().others); !s.ok()) {
    std::fprintf(stderr, "kswarm: timing on shared cores: %s\n", s.message().c_str());
    return {};
  }
  std::vector<int> timing;
  for (const CpuPlan& p : plans) timing.push_back(p.timing_cpu);
  std::fprintf(stderr, "kswarm: timed calls on core(s) %s (one per GPU); the rest on %zu cores\n",
               fmt::format("{}", fmt::join(timing, ", ")).c_str(), plans.front().others.size());
  return plans;
}

Result<supervisor::CandidateResult> EvaluateFile(const EvalFlags& flags,
                                                 const std::string& db_path) {
  for (const std::string& path : {flags.problem, flags.candidate}) {
    if (Status s = CheckInputFile(path); !s.ok()) return Error(s);
  }
  auto store = store::Store::Open(db_path);
  if (!store) return Error(store.error());
  RegisterSecrets({});
  evaluator::Evaluator evaluator(WorkerFor(flags.options, db_path, ""));
  auto hello = evaluator.Hello();
  if (!hello) return Error(hello.error());
  // The file given is anyone's: a model's, a download.
  if (Status s = CheckContainment(*hello, true, flags.options.uncontained); !s.ok()) {
    return Error(s);
  }
  const core::Environment* env = &hello->env;
  if (auto plans = PlaceTiming(env->device_type, 1); !plans.empty()) evaluator.set_cpus(plans[0]);

  supervisor::CandidateRequest request;
  request.problem_path = flags.problem;
  request.candidate_path = flags.candidate;
  request.settings = Settings(flags.options);
  request.fresh = flags.fresh;
  evaluator::BuildPoolConfig build;
  build.worker = WorkerFor(flags.options, db_path, "");
  build.build_arch = hello->build_arch;
  build.timeout_s = flags.options.timeout_s;
  build.static_policy = flags.options.static_check;
  evaluator::BuildPool pool(build);
  return supervisor::EvaluateCandidate(**store, evaluator, request, &pool);
}

int Eval(const EvalFlags& flags, const std::string& db_path) {
  auto result = EvaluateFile(flags, db_path);
  if (!result) return Fail(result.error());
  if (flags.json) {
    std::printf("%s\n", EvalJson(*result).c_str());
  } else {
    std::fputs(EvalText(*result).c_str(), stdout);
  }
  return kExitOk;
}

int Run(const RunFlags& given, const std::string& db_path) {
  // Everything the user gave is checked before the database is created or a worker started.
  auto problems = supervisor::DiscoverProblems(given.paths);
  if (!problems) return Fail(problems.error());
  if (problems->empty()) {
    return Fail(Status(StatusCode::kInvalidArgument, "no problem files (*.py) under the paths"));
  }
  RunFlags flags = given;
  auto config_file = config::LoadConfig(flags.config_path);
  if (!config_file) return Fail(config_file.error());
  if (flags.agents.empty() && config_file->run.agents) flags.agents = *config_file->run.agents;
  if (flags.precision.empty()) flags.precision = config_file->run.precision.value_or("fp32");
  if (!flags.min_gain) flags.min_gain = config_file->run.min_gain;
  if (!flags.recipe_budget_s) flags.recipe_budget_s = config_file->run.recipe_budget_s;
  if (flags.reference.empty()) flags.reference = config_file->context.reference;
  supervisor::ReferenceSources references{flags.reference, config_file->context.inductor};
  if (Status s = supervisor::CheckSources(references); !s.ok()) return Fail(s);
  auto models = PickModels(*config_file, flags.models);
  if (!models) return Fail(models.error());
  if (Status s = CheckKeys(*config_file, *models); !s.ok()) return Fail(s);
  std::string name = flags.name;
  if (name.empty()) {
    // The same command names the same run, so running it again after a kill resumes it.
    std::string key = fmt::format("{}|{}|{}|{}", fmt::join(*problems, ";"), flags.options.device,
                                  fmt::join(flags.agents, ","), flags.precision);
    if (!flags.replay.empty()) key += fmt::format("|replay:{}", fmt::join(flags.replay, ";"));
    name = "run-" + Sha256Hex(key).substr(0, 10);
  }

  auto store = store::Store::Open(db_path);
  if (!store) return Fail(store.error());
  // One run per database at a time: two would each do all the work and time each other.
  auto lock = FileLock::TryAcquire(RunLockPath(db_path),
                                   fmt::format("run '{}' (pid {})", name, ::getpid()));
  if (!lock) {
    if (lock.error().code() != StatusCode::kUnavailable) return Fail(lock.error());
    return Fail(Status(StatusCode::kInvalidArgument,
                       fmt::format("another kswarm run is using {}: {}; wait for it to end, or "
                                   "give this run another --db",
                                   db_path, lock.error().message())));
  }
  config::ExecutorConfig executor = config_file->executor;
  if (!flags.executor.empty()) executor.kind = flags.executor;
  if (flags.workers) executor.workers = *flags.workers;
  const bool slurm = executor.kind == "slurm";
  // Every Slurm job of this run is named from the database; holding its lock, any such job is an
  // orphan of a run that was killed.
  const std::string jobs = slurm ? executor::JobNamePrefix(db_path) : "";
  if (slurm) {
    auto cancelled = executor::CancelJobsNamed(jobs);
    if (!cancelled) return Fail(cancelled.error());
    if (*cancelled > 0) {
      std::fprintf(stderr, "kswarm: cancelled %d Slurm job(s) that a killed run on %s left\n",
                   *cancelled, db_path.c_str());
    }
  }
  // Ctrl-C ends the run resumably and says so; made before any thread starts.
  SignalExit on_signal([&](int) {
    if (slurm) (void)executor::CancelJobsNamed(jobs);
    auto run = (*store)->FindRun(name);
    if (run && run->has_value() && (*run)->status == "running") {
      (void)(*store)->FinishRun((*run)->id, "interrupted");
    }
    std::fprintf(stderr, "\nkswarm: run '%s' interrupted; run the same command to resume\n",
                 name.c_str());
  });
  WarnIfBusy();

  std::optional<int64_t> resume_id;
  auto existing = (*store)->FindRun(name);
  if (!existing) return Fail(existing.error());
  if (existing->has_value() && (*existing)->command == "run" &&
      ((*existing)->status == "running" || (*existing)->status == "interrupted")) {
    resume_id = (*existing)->id;
    auto plan = supervisor::ParseRunPlan((*existing)->config_json);
    if (!plan) return Fail(plan.error());
    flags = FromPlan(*plan, std::move(flags));
    std::fprintf(stderr, "kswarm: resuming run '%s' (#%lld) with its recorded settings\n",
                 name.c_str(), static_cast<long long>(*resume_id));
  }

  RegisterSecrets(config_file->models);
  evaluator::WorkerConfig worker = WorkerFor(flags.options, db_path, flags.config_path);
  const bool gpu_steps = flags.options.device != "cpu" && executor.gpus_per_worker > 0;
  if (slurm) {
    worker.srun = executor::SrunPrefix(executor, gpu_steps, /*build=*/false);
    worker.job_name = jobs + "-w0";
    worker.startup_timeout_s = executor.start_timeout_s;  // a step may wait in the queue
  }
  auto first = std::make_unique<evaluator::Evaluator>(worker);
  auto hello = first->Hello();
  if (!hello) return Fail(hello.error());
  if (Status s = CheckContainment(*hello, !models->empty() || !flags.replay.empty(),
                                  flags.options.uncontained);
      !s.ok()) {
    return Fail(s);
  }
  const core::Environment* env = &hello->env;
  // One worker per GPU it can see, each shown only its own GPU, the first one included (it is
  // started again so shown: a run on one GPU of a host and one on all of them run every
  // candidate in the same kind of process).
  std::vector<std::unique_ptr<evaluator::Evaluator>> workers;
  std::vector<CpuPlan> plans =
      slurm ? std::vector<CpuPlan>{} : PlaceTiming(env->device_type, hello->device_count);
  if (slurm) {
    // One job step per worker, each started by the thread that drives it (the cores and GPUs
    // of a step are Slurm's to place).
    workers.push_back(std::move(first));
    for (int i = 1; i < executor.workers; ++i) {
      evaluator::WorkerConfig one = worker;
      one.job_name = fmt::format("{}-w{}", jobs, i);
      workers.push_back(std::make_unique<evaluator::Evaluator>(one));
    }
  } else if (env->device_type == "cuda" && hello->device_count > 1) {
    first.reset();  // its worker sees every GPU: stopped, and started again seeing GPU 0 alone
    std::vector<std::string> visible;
    if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); v && *v) {
      visible = SplitCommas(v);
    }
    for (int i = 0; i < hello->device_count; ++i) {
      evaluator::WorkerConfig one = worker;
      if (i < static_cast<int>(plans.size())) one.cpus = plans[i];
      one.extra_env.push_back("CUDA_VISIBLE_DEVICES=" +
                              (i < static_cast<int>(visible.size()) ? visible[i]
                                                                    : std::to_string(i)));
      workers.push_back(std::make_unique<evaluator::Evaluator>(one));
      if (auto started = workers.back()->Environment(); !started) {
        return Fail(started.error());
      }
    }
  } else {
    if (!plans.empty()) first->set_cpus(plans[0]);
    workers.push_back(std::move(first));
  }
  std::vector<evaluator::Evaluator*> devices;
  for (auto& w : workers) devices.push_back(w.get());
  std::unique_ptr<evaluator::BuildPool> pool;
  int build_jobs = flags.build_jobs >= 0 ? flags.build_jobs
                                         : static_cast<int>(std::thread::hardware_concurrency());
  if (build_jobs > 0) {
    evaluator::BuildPoolConfig build;
    build.worker = worker;
    if (slurm) {
      build.worker.srun = executor::SrunPrefix(executor, gpu_steps, /*build=*/true);
      build.worker.job_name = jobs;
    }
    build.build_arch = hello->build_arch;
    build.jobs = build_jobs;
    build.timeout_s = flags.options.timeout_s;
    build.static_policy = flags.options.static_check;
    pool = std::make_unique<evaluator::BuildPool>(build);
  }

  std::vector<agents::RecordedCandidate> recorded;
  for (const std::string& path : flags.replay) {
    auto loaded = agents::LoadRecorded(path);
    if (!loaded) return Fail(loaded.error());
    for (auto& r : *loaded) recorded.push_back(std::move(r));
  }
  // A built-in's name would have its candidates run as kswarm's own (shared caches).
  for (const auto& r : recorded) {
    if (agents::IsBuiltinAgent(r.generator)) {
      return Fail(Status(StatusCode::kInvalidArgument,
                         fmt::format("{}: generator '{}' is the name of a built-in agent",
                                     r.origin, r.generator)));
    }
  }

  // Replaying a past run evaluates its candidates: built-ins only when named.
  std::vector<std::string> agent_names =
      !flags.agents.empty() ? flags.agents
      : flags.replay.empty() ? agents::DefaultBuiltinNames(env->device_type)
                             : std::vector<std::string>{};
  if (flags.agents.empty() && flags.replay.empty() && flags.precision == "reduced" &&
      env->device_type == "cuda") {
    agent_names.push_back("tf32");
    agent_names.push_back("bf16_autocast");
  }
  // torch.compile is every report's second baseline: it always runs, first.
  agent_names.erase(std::remove(agent_names.begin(), agent_names.end(),
                                supervisor::kCompileBaselineAgent),
                    agent_names.end());
  agent_names.insert(agent_names.begin(), supervisor::kCompileBaselineAgent);
  auto made = agents::MakeBuiltinAgents(
      agent_names, flags.precision == "reduced",
      {flags.recipe_budget_s.value_or(agents::kDefaultRecipeBudgetS)});
  if (!made) return Fail(made.error());
  supervisor::RunPlan plan = PlanOf(flags, env->device_type, agent_names);
  plan.budget = {config_file->budget.max_tokens, config_file->budget.max_usd,
                 config_file->budget.max_wall_s};
  for (auto& agent : agents::MakeReplayAgents(std::move(recorded))) {
    agent_names.push_back(agent->name());
    made->push_back(std::move(agent));
  }
  // Each model runs once per context configuration, each a swarm member of its own.
  for (const config::ModelConfig& m : *models) {
    auto client = std::make_shared<llm::HttpChatClient>(ToEndpoint(m));
    std::shared_ptr<agents::ProfileAdvisor> advisor;
    if (!m.profile_helper.empty()) {
      auto helper = std::find_if(config_file->models.begin(), config_file->models.end(),
                                 [&](const auto& h) { return h.name == m.profile_helper; });
      llm::Endpoint endpoint = ToEndpoint(*helper);  // the parser checked the name
      advisor = agents::MakeLlmAdvisor(endpoint, std::make_shared<llm::HttpChatClient>(endpoint));
    }
    for (const std::string& context : m.contexts) {
      agents::LlmAgentConfig agent;
      agent.endpoint = ToEndpoint(m);
      agent.endpoint.name = context == "none" ? m.name : m.name + "+" + context;
      agent.attempts = m.attempts;
      agent.context = *agents::ParseContext(context);
      agent.budget = {m.max_tokens, m.max_usd};
      if (agent.context.profile) agent.advisor = advisor;
      const std::string& name = agent.endpoint.name;
      if (std::find(agent_names.begin(), agent_names.end(), name) != agent_names.end() ||
          agents::IsBuiltinAgent(name)) {  // else its candidates would run as kswarm's own
        return Fail(Status(StatusCode::kInvalidArgument,
                           fmt::format("model '{}' has the name of another agent", name)));
      }
      plan.members.push_back({name, m.name, context});
      made->push_back(agents::MakeLlmAgent(std::move(agent), client));
      agent_names.push_back(name);
    }
  }

  std::vector<int> levels;
  for (const std::string& path : *problems) {
    levels.push_back(supervisor::LevelFromPath(path).value_or(0));
  }
  Progress progress(stderr, levels, static_cast<int>(devices.size()));
  supervisor::SuiteRunner runner(**store, devices, std::move(*made), Settings(flags.options),
                                 [&](const supervisor::ProgressEvent& e) { progress.Update(e); },
                                 flags.min_gain.value_or(core::kDefaultMinGain));
  runner.set_verdict_rule(RuleOf(flags));
  runner.set_build_pool(pool.get());
  runner.set_reduced_precision_allowed(flags.precision == "reduced");
  runner.set_reference_sources(references);
  runner.set_budget(plan.budget);
  std::fputs(RunHeader(name, problems->size(), *env, devices.size(), agent_names).c_str(),
             stderr);
  auto result = runner.Run(name, resume_id, supervisor::RunPlanJson(plan), *problems);
  progress.Finish();
  int lost = 0, died = 0;
  for (const auto& w : workers) {
    lost += w->workers_lost();
    died += w->workers_died();
  }
  if (lost > 0) {
    std::fprintf(stderr, "kswarm: Slurm ended %d worker step(s) under a job; each job was sent "
                 "to a new worker\n", lost);
  }
  if (died > 0) {
    std::fprintf(stderr, "kswarm: %d worker process(es) died under a job; each job was sent to "
                 "a new worker\n", died);
  }
  if (!result) {
    std::fprintf(stderr, "kswarm: run '%s' stopped; run the same command to resume\n",
                 name.c_str());
    return Fail(result.error());
  }
  auto run = (*store)->GetRun(result->run_id);
  if (!run || !run->has_value()) return Fail(Status(StatusCode::kInternal, "run vanished"));
  auto summary = report::Summarize(**store, **run);
  if (!summary) return Fail(summary.error());
  std::fputs(report::RenderText(*summary).c_str(), stdout);
  return kExitOk;
}

// The run named `name`, or the latest `kswarm run` when it is empty; kInvalidArgument if none.
// A run recorded as running that no kswarm holds any more was killed: its status reads "stopped".
Result<store::RunRecord> PickRun(store::Store& store, const std::string& name,
                                 const std::string& db_path) {
  auto run = name.empty() ? store.LatestRun("run") : store.FindRun(name);
  if (!run) return Error(run.error());
  if (!run->has_value()) {
    return Error(StatusCode::kInvalidArgument,
                 name.empty() ? fmt::format("{} holds no `kswarm run`", db_path)
                              : fmt::format("no run named '{}' in {}", name, db_path));
  }
  if ((*run)->status == "running" && !FileLock::IsHeld(RunLockPath(db_path))) {
    (*run)->status = "stopped";
  }
  return **run;
}

// The database a report or an export reads; a missing one is named with the run asked for.
Result<std::unique_ptr<store::Store>> OpenToRead(const std::string& db_path,
                                                 const std::string& run) {
  auto store = store::Store::OpenExisting(db_path);
  if (store || run.empty()) return store;
  return Error(store.error().code(),
               fmt::format("no run named '{}': {}", run, store.error().message()));
}

int Export(const ExportFlags& flags, const std::string& db_path) {
  auto store = OpenToRead(db_path, flags.run);
  if (!store) return Fail(store.error());
  auto run = PickRun(**store, flags.run, db_path);
  if (!run) return Fail(run.error());
  auto result = report::ExportRun(**store, *run, flags.out,
                                  evaluator::DefaultWorkerConfig().worker_dir);
  if (!result) return Fail(result.error());
  std::printf("exported %d winners of run '%s' to %s (%d problems keep eager); see manifest.json\n",
              result->modules, run->name.c_str(), flags.out.c_str(), result->kept_eager);
  return kExitOk;
}

int Report(const ReportFlags& flags, const std::string& db_path) {
  auto store = OpenToRead(db_path, flags.run);
  if (!store) return Fail(store.error());
  auto run = PickRun(**store, flags.run, db_path);
  if (!run) return Fail(run.error());
  auto summary = report::Summarize(**store, *run);
  if (!summary) return Fail(summary.error());
  std::string text = flags.format == "json"   ? report::RenderJson(*summary)
                     : flags.format == "csv"  ? report::RenderCsv(*summary)
                     : flags.format == "html" ? report::RenderHtml(*summary)
                                              : report::RenderText(*summary);
  return Emit(text, flags.out);
}

namespace {

// What a built-in agent needs of a problem and device before it proposes anything.
std::string Needs(const agents::BuiltinInfo& info) {
  std::vector<std::string> needs;
  if (info.cuda_only) needs.push_back("a CUDA device");
  if (info.cpu_only) needs.push_back("the CPU");
  if (info.convolution_only) needs.push_back("a convolution");
  if (info.batchnorm_only) needs.push_back("a batch norm");
  if (info.weights_only) needs.push_back("layers with weights");
  return fmt::format("{}", fmt::join(needs, ", "));
}

// The built-in agents, a line each: the devices whose default set has it, what it needs, what it
// does.
std::string AgentsTable() {
  auto cuda = agents::DefaultBuiltinNames("cuda"), cpu = agents::DefaultBuiltinNames("cpu");
  auto in = [](const std::vector<std::string>& v, const std::string& name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  std::string out = fmt::format("{:<31} {:<10} {:<32} {}\n", "agent", "default on",
                                "proposes only with", "what it does");
  for (const auto& info : agents::BuiltinAgents()) {
    std::vector<std::string> defaults;
    if (in(cuda, info.name)) defaults.push_back("cuda");
    if (in(cpu, info.name)) defaults.push_back("cpu");
    std::string needs = Needs(info);
    out += fmt::format("{:<31} {:<10} {:<32} {}{}\n", info.name,
                       defaults.empty() ? "-" : fmt::format("{}", fmt::join(defaults, ", ")),
                       needs.empty() ? "-" : needs, info.description,
                       info.reduced_precision ? " [--precision reduced]" : "");
  }
  return out +
         "A combination is an agent too: two or more of " + agents::IngredientList() +
         ", at most one of them a compile, joined by '+' "
         "(channels_last+cuda_graph+torch_compile_freezing).\n"
         "kswarm agents NAME PROBLEM writes the candidate NAME proposes for PROBLEM.\n";
}

}  // namespace

int Agents(const AgentsFlags& flags) {
  if (flags.name.empty()) return Emit(AgentsTable(), "");
  if (flags.problem.empty()) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       "give the problem file after the agent: kswarm agents NAME PROBLEM"));
  }
  auto made = agents::MakeBuiltinAgents({flags.name}, /*allow_reduced_precision=*/true);
  if (!made) return Fail(made.error());
  auto problem = supervisor::ReadProblemFile(flags.problem);
  if (!problem) return Fail(problem.error());
  agents::AgentRequest request;
  request.problem = {problem->name, problem->path, problem->source, problem->level};
  request.device.type = flags.device;
  auto proposal = made->front()->Propose(request);
  if (!proposal) return Fail(proposal.error());
  if (!*proposal) {
    auto info = agents::BuiltinInfoOf(flags.name);  // made: a built-in
    return Fail(Status(StatusCode::kInvalidArgument,
                       fmt::format("agent '{}' proposes nothing for {} on {}: it needs {}",
                                   flags.name, problem->path, flags.device, Needs(*info))));
  }
  return Emit((*proposal)->source, flags.out);
}

int Problems(const ProblemsFlags& flags) {
  auto paths = supervisor::DiscoverProblems(flags.paths);
  if (!paths) return Fail(paths.error());
  if (paths->empty()) {
    return Fail(Status(StatusCode::kInvalidArgument, "no problem files under the given paths"));
  }
  evaluator::WorkerConfig config = evaluator::DefaultWorkerConfig();
  config.device = flags.options.device;
  evaluator::Evaluator evaluator(config);
  auto env = evaluator.Environment();
  if (!env) return Fail(env.error());

  std::vector<ProblemProbe> probes;
  for (const std::string& path : *paths) {
    ProblemProbe p;
    p.path = path;
    p.name = std::filesystem::path(path).stem().string();
    p.level = supervisor::LevelFromPath(path);
    evaluator::ProbeJob job;
    job.problem_path = path;
    job.settings = Settings(flags.options);
    job.seed = 1;
    if (auto reply = evaluator.Probe(job)) {
      p.probe = std::move(*reply);
    } else if (reply.error().code() == StatusCode::kInvalidArgument ||
               reply.error().code() == StatusCode::kDeadlineExceeded) {
      p.error = reply.error().message();  // this problem's fault: say so and go on
    } else {
      return Fail(reply.error());
    }
    if (!flags.json) std::fprintf(stderr, "probed %s\n", p.name.c_str());
    probes.push_back(std::move(p));
  }
  std::string device = fmt::format("{}: {}", env->device_type, env->device_name);
  std::string out = flags.json ? ProblemsJson(probes, device) + "\n" : ProblemsText(probes, device);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace kswarm::cli
