#include "kswarm/evaluator/evaluator.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "kswarm/evaluator/seccomp_filter.h"
#include "kswarm/executor/slurm.h"
#include "kswarm/util/environment.h"
#include "kswarm/util/redact.h"
#include "kswarm/util/subprocess.h"

extern char** environ;

namespace kswarm::evaluator {
namespace {

using namespace std::chrono_literals;

Clock::time_point After(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(seconds));
}

}  // namespace

#ifndef KSWARM_DEFAULT_PYTHON
#define KSWARM_DEFAULT_PYTHON "python3"
#endif
#ifndef KSWARM_DEFAULT_WORKER_DIR
#define KSWARM_DEFAULT_WORKER_DIR ""
#endif

WorkerConfig DefaultWorkerConfig() {
  WorkerConfig config;
  config.python = EnvOr("KSWARM_PYTHON", KSWARM_DEFAULT_PYTHON);
  config.worker_dir = EnvOr("KSWARM_WORKER_DIR", KSWARM_DEFAULT_WORKER_DIR);
  return config;
}

Evaluator::Evaluator(WorkerConfig config) : config_(std::move(config)) {}

Evaluator::~Evaluator() {
  if (worker_) {
    // Polite first: a worker that is idle exits on shutdown; the destructor kills the rest.
    if (worker_->WriteLine(EncodeShutdown(next_id_++), After(1)).ok() &&
        worker_->Wait(2000ms).exited) {
      return;  // ended by itself, and with it any job step it ran in
    }
    DiscardWorker();
  }
}

void Evaluator::DiscardWorker() {
  if (!worker_) return;
  worker_->KillGroup();
  worker_.reset();
  // A killed srun may leave its step running on the node; Slurm ends it by name. Best effort:
  // the next run cancels what is left (executor::CancelJobsNamed).
  if (!config_.job_name.empty()) (void)executor::CancelJob(config_.job_name);
}

Evaluator::WorkerDeath Evaluator::Bury(const ExitInfo& exit) {
  std::string lost;
  if (worker_ && !config_.job_name.empty()) {
    lost = executor::LostToScheduler(worker_->StderrTail()).value_or("");
  }
  DiscardWorker();
  return {lost.empty() ? exit.ToString() : lost, !lost.empty()};
}

std::vector<std::string> Launched(const WorkerConfig& config, std::vector<std::string> argv) {
  if (config.srun.empty()) return argv;
  return executor::WithJobName(config.srun, config.job_name, argv);
}

std::string Evaluator::StderrExcerpt(size_t max_lines) {
  if (!worker_) return "";
  std::string tail = worker_->StderrTail();
  std::vector<std::string> lines;
  std::istringstream in(tail);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  size_t start = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (size_t i = start; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

std::vector<std::string> WorkerEnvironment(const WorkerConfig& config) {
  std::string pythonpath = config.worker_dir;
  if (const char* existing = std::getenv("PYTHONPATH"); existing && *existing) {
    pythonpath += std::string(":") + existing;
  }
  // Compiled code is kept between runs, where the user has not chosen a place: candidates'
  // extensions (one folder per candidate, python/kswarm_worker/buildcache.py), kswarm_rt's
  // kernels, Triton's kernels and torch.compile's caches. TORCHINDUCTOR_COMPILE_THREADS, unless
  // the user set it, is the worker's to choose once it knows its device
  // (python/kswarm_worker/sandbox_client.py).
  std::string cache = CacheDir();
  std::vector<std::string> overrides = {
      "PYTHONPATH=" + pythonpath,
      "PYTHONUNBUFFERED=1",
      "PYTHONDONTWRITEBYTECODE=1",
      "TORCH_EXTENSIONS_DIR=" + EnvOr("TORCH_EXTENSIONS_DIR", cache + "/torch_extensions"),
      "KSWARM_RT_CACHE=" + EnvOr("KSWARM_RT_CACHE", cache + "/nvrtc"),
      "TRITON_CACHE_DIR=" + EnvOr("TRITON_CACHE_DIR", cache + "/triton"),
      "TORCHINDUCTOR_CACHE_DIR=" + EnvOr("TORCHINDUCTOR_CACHE_DIR", cache + "/inductor"),
  };
  // Written once per process; without it jails still run, and their isolation line says so.
  static const std::string seccomp = WriteSeccompBpf(cache + "/seccomp").value_or("");
  if (!seccomp.empty()) overrides.push_back("KSWARM_SECCOMP_BPF=" + seccomp);
  if (!config.private_dirs.empty()) {
    overrides.push_back(fmt::format("KSWARM_PRIVATE_DIRS={}", fmt::join(config.private_dirs, ":")));
  }
  overrides.insert(overrides.end(), config.extra_env.begin(), config.extra_env.end());
  return ScrubbedEnvironment(environ, overrides);
}

std::vector<std::string> Contained(const WorkerConfig& config,
                                   const std::vector<std::string>& jail_args,
                                   const std::vector<std::string>& argv) {
  std::vector<std::string> out = {config.python, "-m", "kswarm_worker.containment"};
  out.insert(out.end(), jail_args.begin(), jail_args.end());
  out.push_back("--");
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Status Evaluator::EnsureWorker() {
  if (worker_) return Status::Ok();
  for (int lost = 1;; ++lost) {
    Status started = StartWorker();
    if (started.ok() || started.code() != StatusCode::kUnavailable) return started;
    ++workers_lost_;
    if (lost == kMaxLostWorkers) {
      return Status(StatusCode::kInternal,
                    fmt::format("Slurm ended {} workers in a row as they started: {}",
                                kMaxLostWorkers, started.message()));
    }
  }
}

// kUnavailable when Slurm ended the worker before it said hello.
Status Evaluator::StartWorker() {
  SpawnOptions options;
  options.argv = Launched(config_, {config_.python, "-m", "kswarm_worker", "--device",
                                    config_.device});
  options.env = WorkerEnvironment(config_);
  auto proc = Subprocess::Spawn(options);
  if (!proc) {
    return Status(StatusCode::kInternal,
                  fmt::format("cannot start the worker ({}): {}", config_.python,
                              proc.error().message()));
  }
  worker_ = std::move(*proc);
  ++workers_started_;

  int64_t id = next_id_++;
  auto deadline = After(config_.startup_timeout_s);
  Status sent = worker_->WriteLine(EncodeHello(id), deadline);
  auto line = sent.ok() ? worker_->ReadLine(deadline) : Result<std::string>(Error(sent));
  if (!line) {
    ExitInfo exit = worker_->Wait(1000ms);
    std::string why = line.error().code() == StatusCode::kDeadlineExceeded
                          ? fmt::format("did not answer within {} s", config_.startup_timeout_s)
                          : "exited (" + exit.ToString() + ")";
    std::string log = StderrExcerpt(20);
    bool lost = Bury(exit).by_slurm;
    return Status(lost ? StatusCode::kUnavailable : StatusCode::kInternal,
                  fmt::format("the worker ({} -m kswarm_worker, PYTHONPATH={}) {} before saying "
                              "hello{}{}",
                              config_.python, config_.worker_dir, why,
                              log.empty() ? "" : "; its last output:\n", log));
  }
  auto hello = DecodeHello(*line, id);
  if (!hello) {
    DiscardWorker();
    return hello.error();
  }
  hello_ = *hello;
  return Status::Ok();
}

Result<core::Environment> Evaluator::Environment() {
  auto hello = Hello();
  if (!hello) return Error(hello.error());
  return hello->env;
}

Result<HelloReply> Evaluator::Hello() {
  if (Status s = EnsureWorker(); !s.ok()) return Error(s);
  return *hello_;
}

Result<core::Evaluation> Evaluator::Evaluate(const EvalJob& job) {
  for (int deaths = 1;; ++deaths) {
    WorkerDeath death;
    auto evaluation = EvaluateOnce(job, death);
    if (death.how.empty()) return evaluation;
    ++(death.by_slurm ? workers_lost_ : workers_died_);
    if (deaths < kMaxLostWorkers) continue;  // the job goes to a new worker
    if (death.by_slurm) {
      return Error(StatusCode::kInternal,
                   fmt::format("Slurm ended {} workers in a row while they evaluated {} (last: "
                               "{}); the candidate was not judged",
                               kMaxLostWorkers, job.candidate_path, death.how));
    }
    // Judges that die again and again under one candidate: its doing, and the run goes on.
    evaluation->message = fmt::format(
        "the worker process (the judge, not the candidate's sandbox) died {} times in a row "
        "while evaluating the candidate, each time in a new process; the last time: {}",
        kMaxLostWorkers, evaluation->message);
    return evaluation;
  }
}

// Sets `death` when the worker died under the job: the crashed evaluation comes back for a worker
// on this host, an error for one Slurm ended.
Result<core::Evaluation> Evaluator::EvaluateOnce(const EvalJob& job, WorkerDeath& death) {
  if (Status s = EnsureWorker(); !s.ok()) return Error(s);
  auto started = Clock::now();
  auto deadline = After(job.settings.timeout_s);
  int64_t id = next_id_++;

  auto finish = [&](core::Evaluation e) {
    // What came back is stored, shown and fed to agents: no configured key goes with it.
    e.message = Redact(std::move(e.message));
    e.failure_json = Redact(std::move(e.failure_json));
    e.flags_json = Redact(std::move(e.flags_json));
    e.seed = job.seed;
    e.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return e;
  };

  ++jobs_sent_;
  EvalJob placed = job;
  placed.cpus = config_.cpus;
  Status sent = worker_->WriteLine(EncodeEvaluate(id, placed), deadline);
  auto line = sent.ok() ? worker_->ReadLine(deadline) : Result<std::string>(Error(sent));
  if (!line && line.error().code() == StatusCode::kDeadlineExceeded) {
    std::string log = StderrExcerpt(15);
    DiscardWorker();
    core::Evaluation e;
    e.outcome = core::Outcome::kTimeout;
    e.message = fmt::format(
        "the candidate did not finish within the {} s deadline (build, check and timing "
        "together); its worker process group was killed{}{}",
        job.settings.timeout_s, log.empty() ? "" : ". Last worker output:\n", log);
    return finish(std::move(e));
  }
  if (!line) {
    ExitInfo exit = worker_->Wait(1000ms);
    std::string log = StderrExcerpt(15);
    death = Bury(exit);
    if (death.by_slurm) return Error(StatusCode::kUnavailable, "the worker was lost to Slurm");
    core::Evaluation e;
    e.outcome = core::Outcome::kCrashed;
    e.message = fmt::format("{}{}{}", exit.ToString(),
                            log.empty() ? "" : ". Last worker output:\n", log);
    return finish(std::move(e));
  }
  auto reply = DecodeEvaluate(*line, id);
  if (!reply) {
    if (reply.error().code() != StatusCode::kInvalidArgument) DiscardWorker();
    return Error(reply.error());
  }
  if (reply->poisoned) DiscardWorker();
  return finish(std::move(reply->evaluation));
}

Result<ProbeReply> Evaluator::Probe(const ProbeJob& job) {
  for (int deaths = 1;; ++deaths) {
    WorkerDeath death;
    auto reply = ProbeOnce(job, death);
    if (death.how.empty()) return reply;
    ++(death.by_slurm ? workers_lost_ : workers_died_);
    if (deaths < kMaxLostWorkers) continue;
    if (!death.by_slurm) return reply;  // the worker's death, said as an error
    return Error(StatusCode::kInternal,
                 fmt::format("Slurm ended {} workers in a row while they probed {} (last: {})",
                             kMaxLostWorkers, job.problem_path, death.how));
  }
}

Result<ProbeReply> Evaluator::ProbeOnce(const ProbeJob& job, WorkerDeath& death) {
  if (Status s = EnsureWorker(); !s.ok()) return Error(s);
  auto deadline = After(job.settings.timeout_s);
  int64_t id = next_id_++;
  ProbeJob placed = job;
  placed.cpus = config_.cpus;
  Status sent = worker_->WriteLine(EncodeProbe(id, placed), deadline);
  auto line = sent.ok() ? worker_->ReadLine(deadline) : Result<std::string>(Error(sent));
  if (!line) {
    bool late = line.error().code() == StatusCode::kDeadlineExceeded;
    ExitInfo exit = late ? ExitInfo{} : worker_->Wait(1000ms);
    std::string log = StderrExcerpt(15);
    if (late) {
      DiscardWorker();
    } else {
      death = Bury(exit);
    }
    if (death.by_slurm) return Error(StatusCode::kUnavailable, "the worker was lost to Slurm");
    return Error(late ? StatusCode::kDeadlineExceeded : StatusCode::kInternal,
                 fmt::format("{}: {}{}{}", job.problem_path,
                             late ? fmt::format("the probe took more than {} s",
                                                job.settings.timeout_s)
                                  : "the worker died during the probe (" + exit.ToString() + ")",
                             log.empty() ? "" : ". Last worker output:\n", log));
  }
  auto reply = DecodeProbe(*line, id);
  if (!reply && reply.error().code() != StatusCode::kInvalidArgument) DiscardWorker();
  return reply;
}

}  // namespace kswarm::evaluator
