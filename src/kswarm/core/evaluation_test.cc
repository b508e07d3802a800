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

TEST(EvaluationTest, ANearMissIsPassedAndUnflaggedAndJustShortOfTheMinimumGain) {
  Evaluation e;
  e.outcome = Outcome::kPassed;
  e.baseline = TimingStats{1.0, 0.02, 1.0, 100};
  e.candidate = TimingStats{1.0, 0.02, 1.0 / 0.95, 100};  // 0.95x
  EXPECT_TRUE(NearMiss(e, 0.01));
  EXPECT_FALSE(ClearlyFaster(e, 0.01));
  e.candidate = TimingStats{1.0, 0.02, 1.0 / 0.90, 100};  // 0.90x: 1.01 / 0.90 is beyond 10%
  EXPECT_FALSE(NearMiss(e, 0.01));
  e.candidate = TimingStats{1.0, 0.02, 1.0 / 1.02, 100};  // 1.02x: clearly faster, no near miss
  EXPECT_FALSE(NearMiss(e, 0.01));
  EXPECT_TRUE(NearMiss(e, 0.05));  // short of a 5% minimum gain
  e.candidate = TimingStats{1.0, 0.02, 1.0 / 0.99, 100};
  EXPECT_TRUE(NearMiss(e, 0.01));
  e.flags_json = R"(["static reference_fallback (line 3): ..."])";
  EXPECT_FALSE(NearMiss(e, 0.01));  // flagged: never kept, never looked at again
  e.flags_json = "[]";
  e.outcome = Outcome::kWrong;
  EXPECT_FALSE(NearMiss(e, 0.01));
}

TEST(EvaluationTest, ClearlyFasterThanComparesSpeedupsMeasuredAgainstTheirOwnEager) {
  Evaluation a, b;
  a.outcome = b.outcome = Outcome::kPassed;
  a.baseline = TimingStats{2.0, 0.02, 2.0, 100};  // eager was slower during a's evaluation
  a.candidate = TimingStats{1.0, 0.02, 1.0, 100};  // 2.0x
  b.baseline = TimingStats{1.0, 0.01, 1.0, 100};
  b.candidate = TimingStats{0.6, 0.01, 0.6, 100};  // 1.67x
  EXPECT_TRUE(ClearlyFasterThan(a, b, 0.01));
  EXPECT_FALSE(ClearlyFasterThan(b, a, 0.01));
  b.candidate = TimingStats{0.6, 0.01, 0.503, 100};  // 1.988x: within 1% of a
  EXPECT_FALSE(ClearlyFasterThan(a, b, 0.01));
  EXPECT_FALSE(ClearlyFasterThan(b, a, 0.01));
  b.outcome = Outcome::kWrong;
  EXPECT_FALSE(ClearlyFasterThan(a, b, 0.01));
}

TEST(EvaluationTest, WithinNoiseOfAllowsTenPercentBelowTheOtherSpeedup) {
  Evaluation a, b;
  a.outcome = b.outcome = Outcome::kPassed;
  a.baseline = b.baseline = TimingStats{1.0, 0.02, 1.0, 100};
  b.candidate = TimingStats{0.5, 0.01, 0.5, 100};    // 2.0x
  a.candidate = TimingStats{0.5, 0.01, 0.545, 100};  // 1.835x: 2.0 / 1.835 is within 1.1
  EXPECT_TRUE(WithinNoiseOf(a, b));
  EXPECT_TRUE(WithinNoiseOf(b, a));  // faster is within too
  a.candidate = TimingStats{0.5, 0.01, 0.56, 100};  // 1.786x: beyond 10% below
  EXPECT_FALSE(WithinNoiseOf(a, b));
  a.outcome = Outcome::kWrong;
  EXPECT_FALSE(WithinNoiseOf(a, b));
}

TEST(EvaluationTest, TolerancePolicies) {
  EXPECT_EQ(ParseTolerance("seed"), Tolerance::kSeed);
  EXPECT_EQ(ParseTolerance("strict"), Tolerance::kStrict);
  EXPECT_FALSE(ParseTolerance("loose").has_value());
}

}  // namespace
}  // namespace kswarm::core
