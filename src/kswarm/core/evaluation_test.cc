#include "kswarm/core/evaluation.h"

#include <gtest/gtest.h>

namespace kswarm::core {
namespace {

TEST(EvaluationTest, OutcomeNamesRoundTrip) {
  for (Outcome o : {Outcome::kPassed, Outcome::kWrong, Outcome::kCompileError,
                    Outcome::kRuntimeError, Outcome::kTimeout, Outcome::kCrashed,
                    Outcome::kRejected}) {
    auto parsed = ParseOutcome(OutcomeName(o));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, o);
  }
  EXPECT_FALSE(ParseOutcome("fast").has_value());
}

TEST(EvaluationTest, SpeedupComparesTheFastestCallsAndOnlyForPassed) {
  Evaluation e;
  e.outcome = Outcome::kPassed;
  e.baseline = TimingStats{2.0, 0.1, 1.9, 100};
  e.candidate = TimingStats{0.8, 0.3, 0.475, 100};
  ASSERT_TRUE(e.Speedup().has_value());
  EXPECT_DOUBLE_EQ(*e.Speedup(), 4.0);  // 1.9 / 0.475
  EXPECT_DOUBLE_EQ(*e.MedianSpeedup(), 2.5);
  e.baseline->min_ms = 0;  // recorded without minimums: the medians
  EXPECT_DOUBLE_EQ(*e.Speedup(), 2.5);
  e.outcome = Outcome::kWrong;
  EXPECT_FALSE(e.Speedup().has_value());
  EXPECT_FALSE(e.MedianSpeedup().has_value());
}

TEST(EvaluationTest, ClearlyFasterNeedsTheMinimumGainOnTheFastestCalls) {
  Evaluation e;
  e.outcome = Outcome::kPassed;
  e.baseline = TimingStats{1.0, 0.02, 0.98, 100};
  e.candidate = TimingStats{0.9, 0.02, 0.89, 100};
  EXPECT_TRUE(ClearlyFaster(e, 0.01));
  EXPECT_FALSE(ClearlyFaster(e, 0.2));  // 1.10x is below a 20% minimum gain
  e.candidate = TimingStats{0.9, 0.02, 0.975, 100};
  EXPECT_FALSE(ClearlyFaster(e, 0.01));  // 1.005x on the fastest calls, whatever the medians say
  e.candidate = TimingStats{1.1, 0.4, 0.8, 100};
  EXPECT_TRUE(ClearlyFaster(e, 0.01));  // 1.22x on the fastest calls; a median the host inflated
  e.flags_json = R"(["static reference_fallback (line 3): ..."])";
  EXPECT_FALSE(ClearlyFaster(e, 0.01));  // flagged: never kept
  e.flags_json = "[]";
  EXPECT_TRUE(ClearlyFaster(e, 0.01));
  e.outcome = Outcome::kWrong;
  EXPECT_FALSE(ClearlyFaster(e, 0.01));
}

TEST(EvaluationTest, ReducedPrecisionIsALabelKeptOnlyWhereTheRunAllowsIt) {
  Evaluation e;
  e.outcome = Outcome::kPassed;
  e.baseline = TimingStats{1.0, 0.02, 1.0, 100};
  e.candidate = TimingStats{0.5, 0.02, 0.5, 100};
  e.flags_json = R"(["reduced precision: error against a float64 reference 3.1e-04"])";
  EXPECT_FALSE(e.flagged());
  EXPECT_EQ(e.reduced_precision(), "reduced precision: error against a float64 reference 3.1e-04");
  EXPECT_FALSE(ClearlyFaster(e, 0.01));
  EXPECT_TRUE(ClearlyFaster(e, 0.01, /*reduced_precision_allowed=*/true));
  e.flags_json = R"(["reduced precision: allow_tf32", "state left active after a call: \"mode\""])";
  EXPECT_TRUE(e.flagged());  // any other flag still forbids keeping it
  EXPECT_FALSE(ClearlyFaster(e, 0.01, true));
  EXPECT_EQ(e.reduced_precision(), "reduced precision: allow_tf32");
}

TEST(EvaluationTest, TolerancePolicies) {
  EXPECT_EQ(ParseTolerance("seed"), Tolerance::kSeed);
  EXPECT_EQ(ParseTolerance("strict"), Tolerance::kStrict);
  EXPECT_FALSE(ParseTolerance("loose").has_value());
}

}  // namespace
}  // namespace kswarm::core
