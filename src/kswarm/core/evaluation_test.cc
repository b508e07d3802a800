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

TEST(EvaluationTest, FindingsAreReadByTheirCheckNotTheirWords) {
  struct Case {
    const char* name;
    std::string flags_json;
    std::vector<Flag> expected;
    bool flagged;
  };
  const std::vector<Case> cases = {
      {"none", "", {}, false},
      {"an empty array", "[]", {}, false},
      {"objects, as the worker writes them",
       R"([{"check": "reduced_precision", "detail": "reduced precision: allow_tf32"},
           {"check": "speed_of_light", "detail": "faster than the device allows: 0.1 ms"}])",
       {{"reduced_precision", "reduced precision: allow_tf32"},
        {"speed_of_light", "faster than the device allows: 0.1 ms"}},
       true},
      {"a label alone does not flag",
       R"([{"check": "reduced_precision", "detail": "bf16 autocast"}])",
       {{"reduced_precision", "bf16 autocast"}}, false},
      {"a detail that reads like another check does not change the check",
       R"([{"check": "static", "detail": "reduced precision: not really"}])",
       {{"static", "reduced precision: not really"}}, true},
      {"plain strings of evaluations recorded before objects",
       R"(["static reference_fallback (line 3): ...", "degenerate problem: zeros pass",
           "state left active after the candidate's code ran: mode"])",
       {{"static", "static reference_fallback (line 3): ..."},
        {"degenerate_problem", "degenerate problem: zeros pass"},
        {"state", "state left active after the candidate's code ran: mode"}},
       true},
      {"anything else still flags", R"([42, {"detail": "no check"}])",
       {{"unknown", "42"}, {"unknown", R"({"detail":"no check"})"}}, true},
      {"not an array", "{}", {{"unknown", "{}"}}, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseFlags(c.flags_json), c.expected) << c.name;
    Evaluation e;
    e.flags_json = c.flags_json;
    EXPECT_EQ(e.flagged(), c.flagged) << c.name;
  }
  Evaluation labelled;
  labelled.flags_json = R"([{"check": "reduced_precision", "detail": "allow_tf32"},
                            {"check": "reduced_precision", "detail": "bf16 autocast"}])";
  EXPECT_EQ(labelled.reduced_precision(), "allow_tf32; bf16 autocast");
  EXPECT_EQ(FlagText({"speed_of_light", ""}), "speed_of_light");
}

TEST(EvaluationTest, TolerancePolicies) {
  EXPECT_EQ(ParseTolerance("seed"), Tolerance::kSeed);
  EXPECT_EQ(ParseTolerance("strict"), Tolerance::kStrict);
  EXPECT_FALSE(ParseTolerance("loose").has_value());
}

}  // namespace
}  // namespace kswarm::core
