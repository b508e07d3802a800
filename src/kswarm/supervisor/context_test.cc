// Reference implementations: the user's, a winner on another device, torch.compile's code (the
// real worker tool on the CPU).
#include "kswarm/supervisor/context.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "kswarm/util/files.h"

namespace kswarm::supervisor {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProblem = R"py(
import torch, torch.nn as nn
class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x) * 3
def get_inputs():
    return [torch.randn(64, 64)]
def get_init_inputs():
    return []
)py";

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           fmt::format("kswarm_context_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "refs" / "02_folder");
    ::setenv("XDG_CACHE_HOME", (dir_ / "cache").c_str(), 1);
    std::ofstream(dir_ / "level1_relu.py") << kProblem;
    problem_ = {"03_relu3", (dir_ / "level1_relu.py").string(), 1, kProblem, Sha256Hex(kProblem)};
    store_ = std::move(store::Store::Open((dir_ / "k.db").string()).value());
  }
  void TearDown() override { fs::remove_all(dir_); }

  ReferenceQuery Query(const std::string& device_type = "cpu") {
    ReferenceQuery q;
    q.problem = &problem_;
    q.device_type = device_type;
    q.build_arch = "cpu-x86_64";
    q.torch_version = "2.11.0";
    q.shapes = "full";
    q.timeout_s = 300;
    return q;
  }

  fs::path dir_;
  store::ProblemRecord problem_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ContextTest, TheUsersFileOrTheFileNamedAfterTheProblem) {
  std::ofstream(dir_ / "refs" / "03_relu3.cu") << "// relu3 in CUDA";
  std::ofstream(dir_ / "refs" / "02_folder" / "kernel.cu") << "// part one";
  std::ofstream(dir_ / "refs" / "02_folder" / "host.cpp") << "// part two";
  auto mine = UserReference((dir_ / "refs").string(), "03_relu3");
  ASSERT_TRUE(mine && mine->has_value());
  EXPECT_EQ((*mine)->code, "// relu3 in CUDA");
  EXPECT_EQ((*mine)->origin, "03_relu3.cu, supplied by the user");
  auto folder = UserReference((dir_ / "refs").string(), "02_folder");
  ASSERT_TRUE(folder && folder->has_value());
  EXPECT_NE((*folder)->code.find("// ---- host.cpp ----\n// part two"), std::string::npos);
  EXPECT_LT((*folder)->code.find("host.cpp"), (*folder)->code.find("kernel.cu"));
  auto none = UserReference((dir_ / "refs").string(), "09_other");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto one = UserReference((dir_ / "refs" / "03_relu3.cu").string(), "09_other");
  ASSERT_TRUE(one && one->has_value());  // a file is every problem's reference
  EXPECT_FALSE(CheckSources({(dir_ / "missing").string(), true}).ok());
  EXPECT_TRUE(CheckSources({"", true}).ok());
}

TEST_F(ContextTest, AWinnerOnAnotherDeviceComesBeforeTorchCompile) {
  int64_t run = store_->CreateRun("gpu-sweep", "run").value();
  int64_t problem = store_->UpsertProblem(problem_).value();
  store::CandidateRecord c{problem, "class ModelNew: 'the cuda winner'", "sha", "gpt", ""};
  store::EvaluationRecord e;
  e.run_id = run;
  e.problem_id = problem;
  e.candidate_id = store_->UpsertCandidate(c).value();
  e.environment.device_type = "cuda";
  e.environment.device_name = "NVIDIA H200";
  e.cache_key = "k";
  e.evaluation.outcome = core::Outcome::kPassed;
  int64_t id = store_->RecordEvaluation(e).value();
  store::RunProblemRecord rp;
  rp.run_id = run;
  rp.problem_id = problem;
  rp.status = "done";
  rp.best_evaluation_id = id;
  rp.speedup = 1.8;
  ASSERT_TRUE(store_->PutRunProblem(rp).ok());

  auto found = FindReference(*store_, evaluator::DefaultWorkerConfig(), {"", true}, Query("cpu"));
  ASSERT_TRUE(found && found->has_value()) << (found ? "" : found.error().message());
  EXPECT_EQ((*found)->code, "class ModelNew: 'the cuda winner'");
  EXPECT_NE((*found)->origin.find("on cuda (NVIDIA H200, 1.80x faster than eager there, run "
                                  "'gpu-sweep')"),
            std::string::npos) << (*found)->origin;
  std::ofstream(dir_ / "refs" / "03_relu3.py") << "# the user's";
  auto user_first = FindReference(*store_, evaluator::DefaultWorkerConfig(),
                                  {(dir_ / "refs").string(), true}, Query("cpu"));
  ASSERT_TRUE(user_first && user_first->has_value());
  EXPECT_EQ((*user_first)->code, "# the user's");
}

TEST_F(ContextTest, TorchCompilesCodeOnceThenFromTheCache) {
  auto none = FindReference(*store_, evaluator::DefaultWorkerConfig(), {"", false}, Query());
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());  // no user file, no winner, Inductor off

  auto found = FindReference(*store_, evaluator::DefaultWorkerConfig(), {"", true}, Query());
  ASSERT_TRUE(found && found->has_value()) << (found ? "" : found.error().message());
  EXPECT_NE((*found)->code.find("def call("), std::string::npos) << (*found)->code;
  EXPECT_NE((*found)->origin.find("torch.compile (Inductor, torch 2.11.0)"), std::string::npos);
  int cached = 0;
  for (const auto& f : fs::directory_iterator(dir_ / "cache" / "kswarm" / "references")) {
    ++cached;
    std::ofstream(f.path()) << "# from the cache";  // a second call must read it, not compile
  }
  EXPECT_EQ(cached, 1);
  auto again = FindReference(*store_, evaluator::DefaultWorkerConfig(), {"", true}, Query());
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->code, "# from the cache");
}

}  // namespace
}  // namespace kswarm::supervisor
