#include "kswarm/supervisor/verdict_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kswarm::supervisor {
namespace {

constexpr double kFails = std::numeric_limits<double>::quiet_NaN();

double L(double speedup) { return std::log(speedup); }

// The run's other problems: `k` candidates, each with two fresh samples `sigma` apart times
// 0.6745 sqrt(2) (the median step of normal noise of `sigma`).
NoisePool Repeats(double sigma, int k) {
  NoisePool pool;
  for (int i = 0; i < k; ++i) pool.Add({0.0, sigma * 0.6745 * std::sqrt(2.0)});
  return pool;
}
const NoisePool kQuiet = Repeats(0.03, 20);  // about 0.031 with the prior
const NoisePool kNoisy = Repeats(0.14, 20);

struct Scripted {
  double screen;              // speed-up of the first evaluation
  std::vector<double> fresh;  // speed-ups of its fresh evaluations, in turn; kFails: one fails
};

struct Case {
  const char* name;
  NoisePool run;
  std::vector<Scripted> candidates;
  int kept;         // index of the kept candidate, -1 for eager
  int evaluations;  // fresh evaluations spent
};

// Drives the policy as the supervisor does: each kEvaluate draws the candidate's next scripted
// sample, until it decides.
VerdictAction Drive(const Case& c, const VerdictRule& rule, int* spent) {
  Ledger ledger;
  ledger.run = c.run;
  std::vector<size_t> drawn(c.candidates.size(), 0);
  for (size_t i = 0; i < c.candidates.size(); ++i) {
    ledger.contenders.push_back(Contender{static_cast<int64_t>(100 + i), L(c.candidates[i].screen), {}});
  }
  *spent = 0;
  for (int guard = 0; guard < 100; ++guard) {
    VerdictAction a = NextVerdictAction(ledger, rule);
    if (a.kind != VerdictAction::Kind::kEvaluate) return a;
    size_t i = static_cast<size_t>(a.candidate - 100);
    const auto& script = c.candidates.at(i).fresh;
    EXPECT_LT(drawn[i], script.size()) << c.name << ": candidate " << i << " asked for once more";
    double s = drawn[i] < script.size() ? script[drawn[i]] : 1.0;
    ++drawn[i];
    ++*spent;
    if (std::isnan(s)) {
      ledger.contenders[i].failed = true;
    } else {
      ledger.contenders[i].fresh.push_back(L(s));
    }
  }
  ADD_FAILURE() << c.name << ": no decision";
  return {};
}

TEST(VerdictPolicyTest, Table) {
  const std::vector<Case> cases = {
      {"a clear win: one fresh sample", kQuiet, {{2.0, {2.0}}}, 0, 1},
      {"a clear loss: not looked at again", kQuiet, {{0.5, {}}}, -1, 0},
      {"a gain at the noise level: sampled once, dropped when its estimate falls short",
       kQuiet, {{1.05, {1.01}}}, -1, 1},
      {"a gain near what three samples can show: sampled to the cap, not kept",
       kQuiet, {{1.07, {1.07, 1.03, 1.03}}}, -1, 3},
      {"fast once, slower on its fresh samples: dropped after one",
       kQuiet, {{1.5, {0.9}}}, -1, 1},
      {"a fresh evaluation fails: never kept", kQuiet, {{2.0, {kFails}}}, -1, 1},
      {"many candidates, one real winner: the winner's curse picks none of the others",
       kQuiet,
       {{1.08, {}}, {1.05, {}}, {0.97, {}}, {1.02, {}}, {0.95, {}}, {1.06, {}}, {1.3, {1.3}},
        {1.01, {}}, {0.99, {}}, {1.04, {}}},
       6, 1},
      {"many candidates, no real winner: the problem's cap bounds the cost",
       kQuiet,
       {{1.09, {1.06, 1.0}}, {1.09, {1.06, 1.0}}, {1.09, {1.06, 1.0}}, {1.09, {}}}, -1, 6},
      {"a noisy device, 0.85x on its first evaluation: not shown faster within the cap, not sampled",
       kNoisy, {{0.85, {}}}, -1, 0},
      {"a noisy device, 1.2x first, as fast as eager fresh: dropped after one",
       kNoisy, {{1.2, {1.0}}}, -1, 1},
      {"two candidates within noise: the earlier stays, the later gets one challenge",
       kQuiet, {{1.50, {1.50}}, {1.52, {1.50}}}, 0, 2},
      {"the later of two close candidates is clearly faster in a fresh process: it takes over",
       kQuiet, {{1.50, {1.50}}, {1.52, {2.0}}}, 1, 2},
      {"a candidate clearly faster on first evaluations goes first, the other is not needed",
       kQuiet, {{1.2, {}}, {3.0, {3.0}}}, 1, 1},
      {"a 1.1x gain on a quiet device: kept on one sample", Repeats(0.005, 50), {{1.1, {1.1}}}, 0, 1},
      {"the same 1.1x gain on a noisy device: three samples could not show it, none spent",
       kNoisy, {{1.1, {}}}, -1, 0},
      {"a 1.03x gain on a run whose repeats are quiet: kept on two samples", Repeats(0.01, 60),
       {{1.03, {1.03, 1.03}}}, 0, 2},
      {"the same gain at the prior's noise, before the run has repeats: none spent",
       NoisePool{}, {{1.03, {}}}, -1, 0},
  };
  VerdictRule rule;
  for (const Case& c : cases) {
    int spent = 0;
    VerdictAction a = Drive(c, rule, &spent);
    if (c.kept < 0) {
      EXPECT_EQ(a.kind, VerdictAction::Kind::kKeepEager) << c.name << ": " << a.reason;
    } else {
      EXPECT_EQ(a.kind, VerdictAction::Kind::kKeep) << c.name << ": " << a.reason;
      EXPECT_EQ(a.candidate, 100 + c.kept) << c.name << ": " << a.reason;
    }
    EXPECT_EQ(spent, c.evaluations) << c.name;
  }
}

TEST(VerdictPolicyTest, TheKeptEstimateComesFromFreshSamplesOnly) {
  // Selected on a lucky 3x first evaluation; its fresh samples say 2x: the estimate says 2x.
  Ledger ledger;
  ledger.run = kQuiet;
  ledger.contenders.push_back(Contender{7, L(3.0), {L(2.0), L(2.0)}});
  VerdictAction a = NextVerdictAction(ledger, VerdictRule{});
  ASSERT_EQ(a.kind, VerdictAction::Kind::kKeep);
  ASSERT_TRUE(a.estimate.has_value());
  EXPECT_NEAR(std::exp(a.estimate->log_gain), 2.0, 1e-9);
  EXPECT_EQ(a.estimate->samples, 2);
  EXPECT_LT(a.estimate->low, L(2.0));
  EXPECT_GT(a.estimate->high, L(2.0));
  EXPECT_NEAR(a.estimate->high - a.estimate->log_gain, 2.0 * a.sigma / std::sqrt(2.0), 1e-12);
}

TEST(VerdictPolicyTest, NoiseIsPooledFromRepeatedSamplesOfTheProblemTheRunAndThePrior) {
  VerdictRule rule;
  Ledger none;
  EXPECT_DOUBLE_EQ(SampleNoise(none, rule), rule.prior_sigma);
  // The run's repeats beside the prior, which counts for one sample.
  Ledger quiet;
  quiet.run = Repeats(0.01, 49);
  EXPECT_NEAR(quiet.run.Sigma(), 0.01, 1e-12);
  double run_var = (0.05 * 0.05 + 49 * 0.0001) / 50;
  EXPECT_NEAR(SampleNoise(quiet, rule), std::sqrt(run_var), 1e-12);
  // The problem's own repeats beside the run's, which count for run_weight (4) samples: a
  // candidate spread by +-0.1 raises its problem's noise well above the run's.
  quiet.contenders.push_back(Contender{1, 0.5, {0.2, 0.4}});
  EXPECT_NEAR(SampleNoise(quiet, rule), std::sqrt((4 * run_var + 0.02) / 5), 1e-12);
  // One fresh sample has no spread of its own.
  Ledger single;
  single.run = Repeats(0.01, 49);
  single.contenders.push_back(Contender{1, 0.5, {0.3}});
  EXPECT_NEAR(SampleNoise(single, rule), std::sqrt(run_var), 1e-12);
  // Never below the clock's resolution, and defined without any weight.
  Ledger exact;
  exact.run = Repeats(0, 1000);
  EXPECT_DOUBLE_EQ(SampleNoise(exact, rule), rule.min_sigma);
  rule.prior_weight = 0;
  rule.run_weight = 0;
  EXPECT_DOUBLE_EQ(SampleNoise(Ledger{}, rule), rule.prior_sigma);
}

TEST(VerdictPolicyTest, OneCandidateWhoseSpeedChangesAcrossProcessesDoesNotSetTheRunsNoise) {
  // 20 quiet candidates and one whose fresh samples were 1.04x and 1.59x: the run's noise stays
  // near the quiet ones' (a mean square would put it near 0.07).
  NoisePool pool = Repeats(0.01, 20);
  pool.Add({std::log(1.04), std::log(1.59)});
  EXPECT_EQ(pool.steps.size(), 21u);
  EXPECT_NEAR(pool.Sigma(), 0.01, 1e-12);
  double mean_square = 0;
  for (double d : pool.steps) mean_square += d * d / 2;
  EXPECT_GT(std::sqrt(mean_square / pool.steps.size()), 0.06);
  NoisePool odd;
  odd.Add({0.0, 0.1, 0.0, 0.5});  // steps 0.1, 0.1, 0.5: the median is 0.1
  EXPECT_NEAR(odd.Sigma(), 0.1 / (0.6745 * std::sqrt(2.0)), 1e-12);
  EXPECT_EQ(NoisePool{}.Sigma(), 0);
}

TEST(VerdictPolicyTest, ScreenOrderPutsALaterCandidateFirstOnlyWhenClearlyFaster) {
  VerdictRule rule;
  Ledger ledger;
  for (double s : {1.5, 1.55, 3.0, 1.6}) ledger.contenders.push_back(Contender{0, L(s), {}});
  EXPECT_EQ(ScreenOrder(ledger, 0.03, rule), (std::vector<size_t>{2, 0, 1, 3}));
  EXPECT_TRUE(ScreenOrder(Ledger{}, 0.03, rule).empty());
}

TEST(VerdictPolicyTest, TheRuleIsStoredAndReadBackAsItWas) {
  VerdictRule rule;
  rule.min_gain = 0.05;
  rule.max_per_problem = 4;
  rule.prior_sigma = 0.03;
  rule.fresh_trials = 5;
  auto back = ParseVerdictRule(VerdictRuleJson(rule));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(VerdictRuleJson(*back), VerdictRuleJson(rule));
  EXPECT_EQ(back->max_per_problem, 4);
  auto defaults = ParseVerdictRule(R"({"min_gain": 0.02})");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->min_gain, 0.02);
  EXPECT_EQ(defaults->z, VerdictRule{}.z);
  for (const char* bad : {"[]", "not json", R"({"rule": "two_of_three"})", R"({"z": "wide"})",
                          R"({"z": 0})", R"({"max_fresh": 0})", R"({"prior_sigma": -1})",
                          R"({"fresh_trials": 0})", R"({"run_weight": -1})"}) {
    auto parsed = ParseVerdictRule(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace kswarm::supervisor
