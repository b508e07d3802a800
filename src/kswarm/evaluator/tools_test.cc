// Drives the real profiler and torch.compile tools (KSWARM_PYTHON, with torch) on the CPU.
#include "kswarm/evaluator/tools.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::evaluator {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProblem = R"py(
import torch, torch.nn as nn
class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2
def get_inputs():
    return [torch.randn(256, 256)]
def get_init_inputs():
    return []
)py";

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           fmt::format("kswarm_tools_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    problem_ = Write("problem.py", kProblem);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  ProfileJob Job(const std::string& candidate) {
    ProfileJob job;
    job.problem_path = problem_;
    job.candidate_path = candidate;
    job.device_type = "cpu";
    job.timeout_s = 120;
    return job;
  }

  fs::path dir_;
  std::string problem_;
};

TEST_F(ToolsTest, ProfilesAPassedCandidateWithTheEvaluationsTime) {
  // The candidate also fails if a secret of this process reached it.
  ::setenv("OPENAI_API_KEY", "sk-tools-test-secret", 1);
  std::string candidate = Write("fast.py", R"py(
import os, torch, torch.nn as nn
assert "OPENAI_API_KEY" not in os.environ, "a secret reached the profiled candidate"
class ModelNew(nn.Module):
    def forward(self, x):
        return torch.clamp_min(x, 0) * 2
)py");
  ProfileJob job = Job(candidate);
  job.measured_ms = 1.5;
  auto report = ProfileCandidate(DefaultWorkerConfig(), job);
  ::unsetenv("OPENAI_API_KEY");
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->error, "");
  EXPECT_EQ(report->tool, "torch.profiler");
  EXPECT_NE(report->summary.find("One call takes 1.5 ms (the evaluation's median)"),
            std::string::npos)
      << report->summary;
  EXPECT_NE(report->summary.find("aten::clamp_min"), std::string::npos) << report->summary;
  auto metrics = nlohmann::json::parse(report->metrics_json);
  EXPECT_EQ(metrics.value("per_call_ms", 0.0), 1.5);
  EXPECT_EQ(metrics["work"].value("input_bytes", 0), 256 * 256 * 4);
  EXPECT_FALSE(metrics.contains("summary"));  // kept apart, not twice
  EXPECT_GT(report->wall_ms, 0);
}

TEST_F(ToolsTest, AFailingOrHangingCandidateIsAReportNotAnError) {
  auto failing = ProfileCandidate(
      DefaultWorkerConfig(), Job(Write("bad.py", "raise ValueError('broken on import')\n")));
  ASSERT_TRUE(failing) << failing.error().message();
  EXPECT_NE(failing->error.find("broken on import"), std::string::npos) << failing->error;
  EXPECT_EQ(failing->tool, "");

  ProfileJob job = Job(Write("hang.py", "import time\ntime.sleep(600)\n"));
  job.timeout_s = 8;
  auto hanging = ProfileCandidate(DefaultWorkerConfig(), job);
  ASSERT_TRUE(hanging) << hanging.error().message();
  EXPECT_NE(hanging->error.find("killed"), std::string::npos) << hanging->error;
}

TEST_F(ToolsTest, InductorCodeOfABrokenProblemSaysWhy) {
  std::string broken = Write("broken.py", "import torch\nclass Model: pass\n");
  auto code = InductorCode(DefaultWorkerConfig(), broken, "cpu", "full", 120);
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(code.error().message().find("not a KernelBench-format problem"), std::string::npos)
      << code.error().message();
}

}  // namespace
}  // namespace kswarm::evaluator
