// Drives a real Python worker (KSWARM_PYTHON, with torch) on the CPU.
#include "kswarm/evaluator/evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace kswarm::evaluator {
namespace {

namespace fs = std::filesystem;

const char* kGeluCandidate = R"py(
import torch, torch.nn as nn, torch.nn.functional as F
class ModelNew(nn.Module):
    def forward(self, x):
        return F.gelu(x)
)py";

class EvaluatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* src = std::getenv("KSWARM_SOURCE_DIR");
    ASSERT_NE(src, nullptr) << "run through ctest (KSWARM_SOURCE_DIR)";
    source_dir_ = src;
    dir_ = fs::path(::testing::TempDir()) / ("kswarm_evaluator_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  static EvalJob Job(const std::string& candidate_path, double timeout_s = 120) {
    EvalJob job;
    job.problem_path = source_dir_ + "/problems/level1/07_gelu.py";
    job.candidate_path = candidate_path;
    job.settings.trials = 5;
    job.settings.shapes = "small";
    job.settings.timeout_s = timeout_s;
    job.settings.max_runs = 5;
    job.settings.min_runs = 3;
    job.settings.timing_budget_ms = 200;
    job.seed = 1234;
    return job;
  }

  static WorkerConfig Config() {
    WorkerConfig config = DefaultWorkerConfig();
    config.device = "cpu";
    return config;
  }

  static inline std::string source_dir_;
  static inline fs::path dir_;
};

TEST_F(EvaluatorTest, ReportsEnvironment) {
  Evaluator evaluator(Config());
  auto env = evaluator.Environment();
  ASSERT_TRUE(env.has_value()) << env.error().ToString();
  EXPECT_EQ(env->device_type, "cpu");
  EXPECT_FALSE(env->torch_version.empty());
  EXPECT_NE(env->backend_flags_json.find("num_threads"), std::string::npos);
}

TEST_F(EvaluatorTest, PassedCandidateIsTimedAgainstEager) {
  Evaluator evaluator(Config());
  auto e = evaluator.Evaluate(Job(Write("gelu.py", kGeluCandidate)));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->outcome, core::Outcome::kPassed) << e->message;
  EXPECT_EQ(e->trials_run, 5);
  ASSERT_TRUE(e->Speedup().has_value());
  EXPECT_GE(e->candidate->count, 3);
  EXPECT_EQ(e->seed, 1234u);
  EXPECT_GT(e->wall_ms, 0);
}

TEST_F(EvaluatorTest, WrongCandidateNamesTheWorstElement) {
  Evaluator evaluator(Config());
  auto e = evaluator.Evaluate(Job(Write("relu.py", R"py(
import torch, torch.nn as nn
class ModelNew(nn.Module):
    def forward(self, x):
        return torch.relu(x)
)py")));
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->outcome, core::Outcome::kWrong);
  EXPECT_NE(e->message.find("trial 0"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("worst at index"), std::string::npos) << e->message;
  EXPECT_NE(e->failure_json.find("\"abs_err\""), std::string::npos);
  EXPECT_GT(*e->max_abs_err, 1e-2);
}

TEST_F(EvaluatorTest, CrashAndHangLeaveTheEvaluatorUsable) {
  Evaluator evaluator(Config());
  auto crash = evaluator.Evaluate(Job(Write("crash.py", R"py(
import ctypes, torch.nn as nn
class ModelNew(nn.Module):
    def forward(self, x):
        ctypes.string_at(0)
)py")));
  ASSERT_TRUE(crash.has_value()) << crash.error().ToString();
  EXPECT_EQ(crash->outcome, core::Outcome::kCrashed);
  EXPECT_NE(crash->message.find("signal 11"), std::string::npos) << crash->message;

  auto after_crash = evaluator.Evaluate(Job(Write("gelu.py", kGeluCandidate)));
  ASSERT_TRUE(after_crash.has_value());
  EXPECT_EQ(after_crash->outcome, core::Outcome::kPassed) << after_crash->message;

  auto hang = evaluator.Evaluate(Job(Write("hang.py", R"py(
import torch.nn as nn
class ModelNew(nn.Module):
    def forward(self, x):
        while True:
            pass
)py"),
                                     /*timeout_s=*/3));
  ASSERT_TRUE(hang.has_value());
  EXPECT_EQ(hang->outcome, core::Outcome::kTimeout);
  EXPECT_LT(hang->wall_ms, 10000);

  auto after_hang = evaluator.Evaluate(Job(Write("gelu.py", kGeluCandidate)));
  ASSERT_TRUE(after_hang.has_value());
  EXPECT_EQ(after_hang->outcome, core::Outcome::kPassed) << after_hang->message;
  // The crash took down only the sandbox (the worker reported it and started a new one); the
  // hang's deadline killed the worker's whole process group.
  EXPECT_EQ(evaluator.workers_started(), 2);
}

TEST_F(EvaluatorTest, OutcomesForBrokenCandidates) {
  Evaluator evaluator(Config());
  struct Case {
    const char* name;
    const char* source;
    core::Outcome expected;
  } cases[] = {
      {"syntax.py", "class ModelNew(:\n", core::Outcome::kCompileError},
      {"raises.py",
       "import torch.nn as nn\nclass ModelNew(nn.Module):\n    def forward(self, x):\n"
       "        raise RuntimeError('kernel launch failed')\n",
       core::Outcome::kRuntimeError},
      {"nomodel.py", "import torch.nn as nn\nclass Other(nn.Module):\n    pass\n",
       core::Outcome::kRejected},
      {"mutates.py",
       "import torch.nn as nn, torch.nn.functional as F\nclass ModelNew(nn.Module):\n"
       "    def forward(self, x):\n        y = F.gelu(x)\n        x.zero_()\n        return y\n",
       core::Outcome::kRejected},
      {"ctor.py",
       "import torch.nn as nn\nclass ModelNew(nn.Module):\n    def __init__(self, a, b):\n"
       "        super().__init__()\n",
       core::Outcome::kRejected},
  };
  for (const Case& c : cases) {
    auto e = evaluator.Evaluate(Job(Write(c.name, c.source)));
    ASSERT_TRUE(e.has_value()) << c.name << ": " << e.error().ToString();
    EXPECT_EQ(e->outcome, c.expected) << c.name << ": " << e->message;
    EXPECT_FALSE(e->message.empty()) << c.name;
  }
  EXPECT_EQ(evaluator.workers_started(), 1);
}

TEST_F(EvaluatorTest, BrokenProblemIsBadInputNamingTheFile) {
  Evaluator evaluator(Config());
  std::string problem = Write("broken_problem.py", "import torch\ndef get_inputs():\n    return []\n");
  EvalJob job = Job(Write("gelu.py", kGeluCandidate));
  job.problem_path = problem;
  auto e = evaluator.Evaluate(job);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.error().message().find(problem), std::string::npos) << e.error().message();
  EXPECT_NE(e.error().message().find("class Model"), std::string::npos) << e.error().message();
  EXPECT_NE(e.error().message().find("get_init_inputs"), std::string::npos);
}

// How many compile processes torch.compile uses is the worker's to choose once it knows its device
// (python/tests/test_protocol.py); the user's choice reaches it unchanged.
TEST(WorkerEnvironmentTest, TorchCompileThreadsAreLeftToTheWorkerUnlessTheUserChose) {
  auto threads = [](const std::vector<std::string>& env) {
    std::vector<std::string> found;
    for (const auto& entry : env) {
      if (entry.rfind("TORCHINDUCTOR_COMPILE_THREADS=", 0) == 0) found.push_back(entry);
    }
    return found;
  };
  const char* given = std::getenv("TORCHINDUCTOR_COMPILE_THREADS");
  std::optional<std::string> before = given ? std::optional<std::string>(given) : std::nullopt;
  ::unsetenv("TORCHINDUCTOR_COMPILE_THREADS");
  auto unset = WorkerEnvironment(DefaultWorkerConfig());
  ::setenv("TORCHINDUCTOR_COMPILE_THREADS", "8", 1);
  auto chosen = WorkerEnvironment(DefaultWorkerConfig());
  if (before) {
    ::setenv("TORCHINDUCTOR_COMPILE_THREADS", before->c_str(), 1);  // as the caller had it
  } else {
    ::unsetenv("TORCHINDUCTOR_COMPILE_THREADS");
  }
  EXPECT_TRUE(threads(unset).empty());
  EXPECT_EQ(threads(chosen), std::vector<std::string>{"TORCHINDUCTOR_COMPILE_THREADS=8"});
}

TEST_F(EvaluatorTest, WorkerSeesNoSecrets) {
  ::setenv("KSWARM_TEST_API_KEY", "sk-do-not-leak", 1);
  ::setenv("KSWARM_TEST_TOKEN", "tok", 1);
  Evaluator evaluator(Config());
  auto e = evaluator.Evaluate(Job(Write("snoop.py", R"py(
import os, torch.nn as nn, torch.nn.functional as F
leaked = [k for k in os.environ if any(s in k.upper() for s in ("KEY", "TOKEN", "SECRET", "PASSWORD"))]
class ModelNew(nn.Module):
    def forward(self, x):
        if leaked:
            raise RuntimeError("secrets visible: " + ",".join(leaked))
        return F.gelu(x)
)py")));
  ::unsetenv("KSWARM_TEST_API_KEY");
  ::unsetenv("KSWARM_TEST_TOKEN");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->outcome, core::Outcome::kPassed) << e->message;
}

// Runs where a CUDA device is usable (scripts/gpu-check.sh runs it there); skipped elsewhere.
TEST_F(EvaluatorTest, CudaErrorDiscardsTheSandboxAndTheNextCandidatePasses) {
  WorkerConfig config = DefaultWorkerConfig();
  config.device = "cuda";
  Evaluator evaluator(config);
  auto env = evaluator.Environment();
  if (!env && env.error().code() == StatusCode::kInvalidArgument) {
    GTEST_SKIP() << "no CUDA device: " << env.error().message();
  }
  ASSERT_TRUE(env.has_value()) << env.error().ToString();
  EvalJob oob = Job(source_dir_ + "/testing/candidates/07_gelu/cuda_oob.py", 600);
  auto poisoned = evaluator.Evaluate(oob);
  ASSERT_TRUE(poisoned.has_value()) << poisoned.error().ToString();
  EXPECT_EQ(poisoned->outcome, core::Outcome::kRuntimeError) << poisoned->message;
  EXPECT_NE(poisoned->message.find("illegal"), std::string::npos) << poisoned->message;
  auto after = evaluator.Evaluate(Job(Write("gelu.py", kGeluCandidate)));
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  EXPECT_EQ(after->outcome, core::Outcome::kPassed) << after->message;
  // The illegal access poisoned the sandbox's CUDA context only: the worker discarded that
  // sandbox and kept its own.
  EXPECT_EQ(evaluator.workers_started(), 1);
}

TEST_F(EvaluatorTest, MissingInterpreterIsAnInternalError) {
  WorkerConfig config = Config();
  config.python = "/nonexistent/python3";
  Evaluator evaluator(config);
  auto env = evaluator.Environment();
  ASSERT_FALSE(env.has_value());
  EXPECT_EQ(env.error().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace kswarm::evaluator

namespace kswarm::evaluator {
namespace {

// A worker (testing/fake_worker.py) that dies under its first `deaths` evaluate jobs, as Slurm
// ends it when `banner`.
class DyingWorkerTest : public EvaluatorTest {
 protected:
  WorkerConfig Dying(int deaths, bool banner, const std::string& name) {
    WorkerConfig config = Config();
    config.python = source_dir_ + "/testing/fake_worker.py";
    std::string count = (dir_ / (name + ".count")).string();
    fs::remove(count);
    config.extra_env = {"FAKE_WORKER_COUNT=" + count,
                        "FAKE_WORKER_DEATHS=" + std::to_string(deaths),
                        std::string("FAKE_WORKER_BANNER=") + (banner ? "1" : "0")};
    return config;
  }
};

TEST_F(DyingWorkerTest, AWorkerThatDiesIsReplacedAndTheJobSentAgain) {
  struct Case {
    const char* name;
    int deaths;
    bool slurm;
    bool judged;            // the job ends with an evaluation (else an error)
    core::Outcome outcome;  // when judged
  };
  const Case cases[] = {
      // A death or two is the host's or kswarm's: the candidate is judged by the next worker.
      {"local_once", 1, false, true, core::Outcome::kPassed},
      {"local_twice", 2, false, true, core::Outcome::kPassed},
      // Judges dying under every try: the candidate's doing, and the run goes on.
      {"local_always", 3, false, true, core::Outcome::kCrashed},
      {"slurm_once", 1, true, true, core::Outcome::kPassed},
      // Slurm ending every step: no verdict on the candidate, the run stops.
      {"slurm_always", 3, true, false, core::Outcome::kPassed},
  };
  for (const Case& c : cases) {
    WorkerConfig config = Dying(c.deaths, c.slurm, c.name);
    if (c.slurm) config.job_name = std::string("kswarm-test-") + c.name;  // no srun: this host
    Evaluator evaluator(config);
    auto e = evaluator.Evaluate(Job(Write("c.py", "unused")));
    EXPECT_EQ(evaluator.workers_started(), std::min(c.deaths, kMaxLostWorkers) +
                                               (c.deaths < kMaxLostWorkers ? 1 : 0))
        << c.name;
    EXPECT_EQ(c.slurm ? evaluator.workers_lost() : evaluator.workers_died(),
              std::min(c.deaths, kMaxLostWorkers))
        << c.name;
    if (!c.judged) {
      ASSERT_FALSE(e.has_value()) << c.name;
      EXPECT_EQ(e.error().code(), StatusCode::kInternal);
      EXPECT_NE(e.error().message().find("Slurm ended 3 workers"), std::string::npos)
          << e.error().message();
      continue;
    }
    ASSERT_TRUE(e.has_value()) << c.name << ": " << e.error().ToString();
    EXPECT_EQ(e->outcome, c.outcome) << c.name << ": " << e->message;
    if (c.outcome == core::Outcome::kCrashed) {
      EXPECT_NE(e->message.find("died 3 times in a row"), std::string::npos) << e->message;
    }
  }
}

}  // namespace
}  // namespace kswarm::evaluator
