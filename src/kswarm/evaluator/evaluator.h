// The evaluator: runs evaluate jobs in a Python worker process (docs/worker_protocol.md) and turns
// whatever happens — a verdict, a hang, a crash — into a core::Evaluation.
//
// It owns one worker for one device, started on first use and restarted after a timeout, a crash,
// a protocol fault or a poisoned CUDA context, so a bad candidate never harms the next job.
// Not thread-safe: one thread drives one Evaluator (and must outlive its worker: see Subprocess).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/core/evaluation.h"
#include "kswarm/evaluator/protocol.h"
#include "kswarm/util/status.h"

namespace kswarm {
class Subprocess;
struct ExitInfo;
}

namespace kswarm::evaluator {

struct WorkerConfig {
  std::string python = "python3";  // interpreter with torch
  std::string worker_dir;          // directory containing the kswarm_worker package
  std::string device = "auto";     // "auto" (cuda when usable, else cpu), "cuda" or "cpu"
  // Extra "NAME=value" entries for the worker's environment (after secrets are scrubbed).
  std::vector<std::string> extra_env;
  // Folders of kswarm's own that candidate code must not see, besides the working folder (the
  // database's, the config's): hidden in every jail (docs/containment.md).
  std::vector<std::string> private_dirs;
  double startup_timeout_s = 180;  // importing torch on a cold disk can take a while
  // The cores its timed calls and everything else run on (util/cpus.h); none by default.
  CpuPlan cpus;
  // Set when it runs as a Slurm job step (executor/slurm.h): srun and its options, and the
  // job's name, by which a worker that is discarded is cancelled.
  std::vector<std::string> srun;
  std::string job_name;
};

// `argv` as started for `config`: itself on this host, or under srun as a job named job_name.
std::vector<std::string> Launched(const WorkerConfig& config, std::vector<std::string> argv);

// How many times in a row a job may lose its worker and be sent again to a new one: a worker
// Slurm ended (cancelled, preempted, past its time limit, a node failure), or a worker process
// that died (the judge: candidates run in sandboxes of their own, so its death is first taken for
// kswarm's or the host's, never the candidate's).
inline constexpr int kMaxLostWorkers = 3;

// Where a config's defaults come from: KSWARM_PYTHON, KSWARM_WORKER_DIR and the build's defaults.
WorkerConfig DefaultWorkerConfig();

// The environment of the worker and of the jails it makes for candidate code: this process's,
// without secrets, with the worker's path, the build caches, the seccomp filter
// (KSWARM_SECCOMP_BPF) and the private folders (KSWARM_PRIVATE_DIRS).
std::vector<std::string> WorkerEnvironment(const WorkerConfig& config);

// The argv that runs `argv` (a python -m kswarm_worker... tool) in a jail
// (python/kswarm_worker/containment.py), with `jail_args` (--build, --readable, --trusted).
std::vector<std::string> Contained(const WorkerConfig& config,
                                   const std::vector<std::string>& jail_args,
                                   const std::vector<std::string>& argv);

class Evaluator {
 public:
  explicit Evaluator(WorkerConfig config);
  ~Evaluator();

  // The worker's device and versions, starting it if needed. kInvalidArgument when the requested
  // device is not usable; kInternal when the worker cannot be started.
  Result<core::Environment> Environment();
  // The worker's whole hello (the environment, the build target, the devices it sees).
  Result<HelloReply> Hello();

  // Evaluates one candidate. The outcome (passed, wrong, timeout, crashed, ...) is data. A worker
  // that dies under the job is no outcome: the job goes to a new worker, and only a job under
  // which kMaxLostWorkers workers died in a row is "crashed". Errors: kInvalidArgument for a
  // broken problem file (the message names the file and what is wrong), kInternal when the
  // worker cannot be started or breaks the protocol, or Slurm keeps ending its workers.
  Result<core::Evaluation> Evaluate(const EvalJob& job);

  // Probes a problem with no candidate (degenerate answers, work, speed of light, eager's time).
  // Errors: kInvalidArgument for a broken problem, kDeadlineExceeded past settings.timeout_s (the
  // worker is restarted), kInternal when the worker dies or breaks the protocol.
  Result<ProbeReply> Probe(const ProbeJob& job);

  // How many worker processes this evaluator has started (for tests and diagnostics).
  int workers_started() const { return workers_started_; }
  // How many evaluate jobs this evaluator has sent to its workers.
  int jobs_sent() const { return jobs_sent_; }
  // How many of its workers Slurm ended under a job, and how many died under one (each job sent
  // again to a new worker).
  int workers_lost() const { return workers_lost_; }
  int workers_died() const { return workers_died_; }
  // How its workers are started (the tools of tools.h start theirs alike).
  const WorkerConfig& config() const { return config_; }
  // The cores for the jobs sent from now on (see WorkerConfig::cpus).
  void set_cpus(CpuPlan cpus) { config_.cpus = std::move(cpus); }

 private:
  Status EnsureWorker();
  Status StartWorker();
  // How a worker ended under a job: `how` empty when it did not.
  struct WorkerDeath {
    std::string how;  // its exit, or why Slurm ended it
    bool by_slurm = false;
  };
  // Discards a worker whose stdout closed, saying how it ended (`exit`, or Slurm's reason read
  // from its stderr when it ran as a job step).
  WorkerDeath Bury(const ExitInfo& exit);
  Result<core::Evaluation> EvaluateOnce(const EvalJob& job, WorkerDeath& death);
  Result<ProbeReply> ProbeOnce(const ProbeJob& job, WorkerDeath& death);
  void DiscardWorker();
  std::string StderrExcerpt(size_t max_lines);

  WorkerConfig config_;
  std::unique_ptr<Subprocess> worker_;
  std::optional<HelloReply> hello_;
  int64_t next_id_ = 1;
  int workers_started_ = 0;
  int jobs_sent_ = 0;
  int workers_lost_ = 0;
  int workers_died_ = 0;
};

}  // namespace kswarm::evaluator
