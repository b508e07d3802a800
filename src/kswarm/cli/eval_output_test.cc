#include "kswarm/cli/eval_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kswarm::cli {
namespace {

supervisor::CandidateResult Passed() {
  supervisor::CandidateResult r;
  r.problem.name = "07_gelu";
  r.problem.path = "/p/level1/07_gelu.py";
  r.problem.level = 1;
  r.candidate.path = "/c.py";
  r.candidate.sha256 = "0123456789abcdef";
  r.record.id = 7;
  r.record.environment.device_type = "cuda";
  r.record.environment.device_name = "NVIDIA H100 80GB HBM3";
  r.record.environment.torch_version = "2.11.0";
  r.record.environment.backend_flags_json = R"({"cudnn_benchmark":false})";
  core::Evaluation& e = r.record.evaluation;
  e.outcome = core::Outcome::kPassed;
  e.message = "correct";
  e.trials_run = 100;
  e.max_abs_err = 1e-7;
  e.max_rel_err = 1e-6;
  e.baseline = core::TimingStats{3.3, 0.1, 2.8, 100};
  e.candidate = core::TimingStats{1.5, 0.05, 1.4, 100};
  return r;
}

TEST(EvalOutputTest, JsonHasTheDocumentedFields) {
  auto j = nlohmann::json::parse(EvalJson(Passed()));
  EXPECT_EQ(j["outcome"], "passed");
  EXPECT_DOUBLE_EQ(j["speedup"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["baseline_ms"].get<double>(), 2.8);  // the fastest calls
  EXPECT_DOUBLE_EQ(j["candidate_ms"].get<double>(), 1.4);
  EXPECT_DOUBLE_EQ(j["median_speedup"].get<double>(), 2.2);
  EXPECT_DOUBLE_EQ(j["baseline"]["median_ms"].get<double>(), 3.3);
  EXPECT_DOUBLE_EQ(j["max_abs_err"].get<double>(), 1e-7);
  EXPECT_TRUE(j.contains("max_rel_err"));
  EXPECT_EQ(j["message"], "correct");
  EXPECT_EQ(j["problem"]["level"], 1);
  EXPECT_EQ(j["environment"]["backend_flags"]["cudnn_benchmark"], false);
  EXPECT_EQ(j["cached"], false);
}

TEST(EvalOutputTest, AReducedPrecisionLabelAndTheIsolationAreShown) {
  supervisor::CandidateResult r = Passed();
  r.record.environment.isolation = "contained: user, pid, mount, net, ipc namespaces";
  r.record.evaluation.flags_json = R"(["reduced precision: TF32"])";
  auto j = nlohmann::json::parse(EvalJson(r));
  EXPECT_EQ(j["reduced_precision"], "reduced precision: TF32");
  EXPECT_EQ(j["flags"].size(), 1u);
  EXPECT_EQ(j["environment"]["isolation"], "contained: user, pid, mount, net, ipc namespaces");
  std::string text = EvalText(r);
  EXPECT_NE(text.find("label      reduced precision: TF32"), std::string::npos) << text;
  EXPECT_NE(text.find("isolation  contained"), std::string::npos) << text;
}

TEST(EvalOutputTest, JsonUsesNullForWhatDoesNotApply) {
  supervisor::CandidateResult r = Passed();
  r.record.evaluation.outcome = core::Outcome::kCompileError;
  r.record.evaluation.baseline.reset();
  r.record.evaluation.candidate.reset();
  r.record.evaluation.max_abs_err.reset();
  r.record.evaluation.max_rel_err.reset();
  auto j = nlohmann::json::parse(EvalJson(r));
  EXPECT_EQ(j["outcome"], "compile_error");
  for (const char* key : {"speedup", "baseline_ms", "candidate_ms", "median_speedup", "max_abs_err",
                          "max_rel_err"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_null()) << key;
  }
}

TEST(EvalOutputTest, TextShowsSpeedupAndDevice) {
  std::string text = EvalText(Passed());
  EXPECT_NE(text.find("speedup    2.000x (fastest calls; medians 2.200x)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("eager      2.8 ms fastest, 3.3 ms median"), std::string::npos) << text;
  EXPECT_NE(text.find("NVIDIA H100 80GB HBM3"), std::string::npos) << text;
  EXPECT_NE(text.find("tolerance seed"), std::string::npos) << text;
}

}  // namespace
}  // namespace kswarm::cli
