// Drives a real Python worker (KSWARM_PYTHON, with torch) on the CPU and a real database.
#include "kswarm/supervisor/evaluate_candidate.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace kswarm::supervisor {
namespace {

namespace fs = std::filesystem;

class EvaluateCandidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_dir_ = std::getenv("KSWARM_SOURCE_DIR");
    dir_ = fs::path(::testing::TempDir()) / ("kswarm_ec_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    candidate_ = (dir_ / "gelu.py").string();
    std::ofstream(candidate_) << "import torch.nn as nn, torch.nn.functional as F\n"
                                 "class ModelNew(nn.Module):\n"
                                 "    def forward(self, x):\n"
                                 "        return F.gelu(x)\n";
    store_ = std::move(store::Store::Open((dir_ / "kswarm.db").string()).value());
    evaluator::WorkerConfig config = evaluator::DefaultWorkerConfig();
    config.device = "cpu";
    evaluator_ = std::make_unique<evaluator::Evaluator>(config);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CandidateRequest Request() {
    CandidateRequest r;
    r.problem_path = std::string(source_dir_) + "/problems/level1/07_gelu.py";
    r.candidate_path = candidate_;
    r.settings.trials = 3;
    r.settings.shapes = "small";
    r.settings.max_runs = 3;
    r.settings.min_runs = 3;
    return r;
  }

  const char* source_dir_ = nullptr;
  fs::path dir_;
  std::string candidate_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evaluator::Evaluator> evaluator_;
};

TEST_F(EvaluateCandidateTest, RecordsThenAnswersFromTheStoreUnlessFresh) {
  auto first = EvaluateCandidate(*store_, *evaluator_, Request());
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_FALSE(first->cached);
  EXPECT_EQ(first->record.evaluation.outcome, core::Outcome::kPassed)
      << first->record.evaluation.message;
  EXPECT_EQ(first->problem.level, 1);
  EXPECT_GT(first->record.id, 0);

  auto second = EvaluateCandidate(*store_, *evaluator_, Request());
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->record.id, first->record.id);
  EXPECT_EQ(second->record.evaluation.seed, first->record.evaluation.seed);

  CandidateRequest fresh = Request();
  fresh.fresh = true;
  auto third = EvaluateCandidate(*store_, *evaluator_, fresh);
  ASSERT_TRUE(third.has_value());
  EXPECT_FALSE(third->cached);
  EXPECT_NE(third->record.id, first->record.id);

  CandidateRequest strict = Request();
  strict.settings.tolerance = core::Tolerance::kStrict;
  auto fourth = EvaluateCandidate(*store_, *evaluator_, strict);
  ASSERT_TRUE(fourth.has_value());
  EXPECT_FALSE(fourth->cached);
}

TEST_F(EvaluateCandidateTest, EditedCandidateIsEvaluatedAgain) {
  auto first = EvaluateCandidate(*store_, *evaluator_, Request());
  ASSERT_TRUE(first.has_value());
  std::ofstream(candidate_, std::ios::app) << "# edited\n";
  auto second = EvaluateCandidate(*store_, *evaluator_, Request());
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->cached);
}

TEST_F(EvaluateCandidateTest, MissingCandidateFailsBeforeStartingAWorker) {
  CandidateRequest r = Request();
  r.candidate_path = (dir_ / "missing.py").string();
  auto result = EvaluateCandidate(*store_, *evaluator_, r);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(evaluator_->workers_started(), 0);
}

}  // namespace
}  // namespace kswarm::supervisor
