#include "kswarm/executor/slurm.h"

#include <gtest/gtest.h>

namespace kswarm::executor {
namespace {

TEST(LostToSchedulerTest, ReadsWhySlurmEndedTheStep) {
  struct Case {
    const char* srun_stderr;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"slurmstepd-vm: error: *** STEP 2.0 ON vm CANCELLED AT 2026-12-04T21:55:21 ***\n"
       "srun: Job step aborted: Waiting up to 32 seconds for job step to finish.\n"
       "srun: error: vm: task 0: Terminated\n",
       "cancelled"},
      {"slurmstepd: error: *** JOB 7 ON n3 CANCELLED AT 2026-12-04T21:55:21 DUE TO TIME LIMIT ***",
       "time limit"},
      {"slurmstepd: error: *** STEP 7.0 ON n3 DUE TO TIME LIMIT ***", "time limit"},
      {"slurmstepd: error: *** JOB 7 ON n3 DUE TO PREEMPTION ***", "preempted"},
      {"slurmstepd: error: *** STEP 7.0 ON n3 DUE TO NODE FAILURE ***", "node failure"},
      {"srun: error: Node failure on n3", "allocation revoked"},
      {"srun: error: Job allocation 7 has been revoked", "allocation revoked"},
      // The worker's own death, or the candidate's doing, is not Slurm's.
      {"Traceback (most recent call last):\nMemoryError\nsrun: error: vm: task 0: Exited with "
       "exit code 1\n",
       std::nullopt},
      {"srun: error: vm: task 0: Killed\n", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LostToScheduler(c.srun_stderr), c.want) << c.srun_stderr;
  }
}

TEST(SrunPrefixTest, AsksForWhatTheConfigSays) {
  config::ExecutorConfig c;
  c.kind = "slurm";
  c.partition = "gpu";
  c.account = "lab";
  c.time_limit = "2:00:00";
  c.cpus_per_worker = 8;
  c.gpus_per_worker = 1;
  c.srun_args = {"--qos=high"};
  auto worker = SrunPrefix(c, /*gpu=*/true, /*build=*/false);
  std::vector<std::string> want = {"srun", "--nodes=1", "--ntasks=1", "--unbuffered",
                                   "--kill-on-bad-exit=1", "--cpus-per-task=8", "--gres=gpu:1",
                                   "--partition=gpu", "--account=lab", "--time=2:00:00",
                                   "--qos=high"};
  EXPECT_EQ(worker, want);
  // A build is a CPU step: one core, no GPU.
  auto build = SrunPrefix(c, /*gpu=*/true, /*build=*/true);
  EXPECT_EQ(std::count(build.begin(), build.end(), "--gres=gpu:1"), 0);
  EXPECT_EQ(std::count(build.begin(), build.end(), "--cpus-per-task=1"), 1);
  auto cpu = SrunPrefix(c, /*gpu=*/false, /*build=*/false);
  EXPECT_EQ(std::count(cpu.begin(), cpu.end(), "--gres=gpu:1"), 0);

  auto argv = WithJobName({"srun"}, "kswarm-abc-w0", {"python3", "-m", "kswarm_worker"});
  std::vector<std::string> named = {"srun", "--job-name=kswarm-abc-w0", "python3", "-m",
                                    "kswarm_worker"};
  EXPECT_EQ(argv, named);
}

TEST(JobNamePrefixTest, OneNamePerDatabase) {
  EXPECT_EQ(JobNamePrefix("/tmp/a/kswarm.db"), JobNamePrefix("/tmp/a/../a/kswarm.db"));
  EXPECT_NE(JobNamePrefix("/tmp/a/kswarm.db"), JobNamePrefix("/tmp/b/kswarm.db"));
  EXPECT_EQ(JobNamePrefix("/tmp/a/kswarm.db").rfind("kswarm-", 0), 0u);
}

}  // namespace
}  // namespace kswarm::executor
