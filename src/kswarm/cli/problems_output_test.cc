#include "kswarm/cli/problems_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kswarm::cli {
namespace {

std::vector<ProblemProbe> Probes() {
  evaluator::ProbeReply gelu;
  gelu.input_bytes = 4e6;
  gelu.output_bytes = 4e6;
  gelu.bound_ms = 0.002;
  gelu.eager.median_ms = 0.11;
  gelu.peak_bytes_per_s = 3e12;
  gelu.peak_flops_per_s = 7e14;
  gelu.slack = 4;
  evaluator::ProbeReply near = gelu;
  near.degenerate = {"the input"};
  return {ProblemProbe{"07_gelu", 1, "/p/level1/07_gelu.py", gelu, ""},
          ProblemProbe{"near_identity", std::nullopt, "/t/near_identity.py", near, ""},
          ProblemProbe{"00_broken", 1, "/p/level1/00_broken.py", std::nullopt,
                       "00_broken.py: get_inputs() is missing"}};
}

TEST(ProblemsOutputTest, TextNamesDegenerateAndFailedProblemsWithTheBound) {
  std::string text = ProblemsText(Probes(), "cuda: NVIDIA H100 80GB HBM3");
  EXPECT_NE(text.find("level1/07_gelu"), std::string::npos) << text;
  EXPECT_NE(text.find("55x"), std::string::npos) << text;  // 0.11 ms over a 0.002 ms bound
  EXPECT_NE(text.find("degenerate: 1 of 3: near_identity (the input)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("level1/00_broken  failed: 00_broken.py: get_inputs() is missing"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("3000 GB/s, FLOPs at 700 TFLOP/s"), std::string::npos) << text;
}

TEST(ProblemsOutputTest, JsonListsEveryProblem) {
  auto j = nlohmann::json::parse(ProblemsJson(Probes(), "cpu: Test CPU"));
  ASSERT_EQ(j["problems"].size(), 3u);
  EXPECT_EQ(j["problems"][0]["bound_ms"], 0.002);
  EXPECT_EQ(j["problems"][1]["level"], nullptr);
  EXPECT_EQ(j["degenerate"], nlohmann::json::array({"near_identity"}));
  EXPECT_EQ(j["failed"], nlohmann::json::array({"00_broken"}));
  EXPECT_NE(j["problems"][2]["error"].get<std::string>().find("get_inputs"), std::string::npos);
}

}  // namespace
}  // namespace kswarm::cli
