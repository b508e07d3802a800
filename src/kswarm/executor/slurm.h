// Workers as Slurm job steps (docs/executors.md): the srun line that starts one, the names that
// tie every job to the database it works for, and how a worker lost to Slurm is told apart from
// one that died of what it ran.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kswarm/config/config.h"
#include "kswarm/util/status.h"

namespace kswarm::executor {

// The prefix of every job name kswarm gives Slurm for the database at `db_path`: one run per
// database at a time, so a job of that name that the running kswarm did not start is an orphan.
std::string JobNamePrefix(const std::string& db_path);

// srun and its options for a process of one job step: a worker (with the configured GPUs when
// `gpu`, else the configured cores) or a build (one core, no GPU). The job's name comes after
// (WithJobName), the command after that.
std::vector<std::string> SrunPrefix(const config::ExecutorConfig& config, bool gpu, bool build);

// `srun` (from SrunPrefix) + --job-name=`name` + `argv`.
std::vector<std::string> WithJobName(const std::vector<std::string>& srun,
                                     const std::string& name,
                                     const std::vector<std::string>& argv);

// Why Slurm ended a step, read from what srun and slurmstepd wrote to srun's stderr
// ("*** STEP 12.0 ON node CANCELLED AT ...", "*** JOB 12 ON node DUE TO TIME LIMIT ***", a
// revoked allocation, a node failure); nullopt when nothing there says Slurm ended it.
std::optional<std::string> LostToScheduler(std::string_view srun_stderr);

// The ids and names of this user's jobs whose name starts with `prefix`, from squeue.
struct Job {
  std::string id;
  std::string name;
};
Result<std::vector<Job>> JobsNamed(const std::string& prefix);
// Cancels them (scancel); how many there were.
Result<int> CancelJobsNamed(const std::string& prefix);
// Cancels the jobs of exactly this name.
Status CancelJob(const std::string& name);

}  // namespace kswarm::executor
