#include "kswarm/supervisor/verdict_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kswarm::supervisor {
namespace {

constexpr double kFails = std::numeric_limits<double>::quiet_NaN();

double L(double speedup) { return std::log(speedup); }

// Eager's fastest call in `n` processes, spread by +-`spread` (log): an A/A record of the noise.
std::vector<double> Eager(int n, double spread) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(std::log(2.0) + (i % 2 ? spread : -spread));
  return out;
}

struct Scripted {
  double screen;              // speed-up of the first evaluation
  std::vector<double> fresh;  // speed-ups of its fresh evaluations, in turn; kFails: one fails
};

struct Case {
  const char* name;
  std::vector<double> eager_logs;
  std::vector<Scripted> candidates;
  int kept;         // index of the kept candidate, -1 for eager
  int evaluations;  // fresh evaluations spent
};

// Drives the policy as the supervisor does: each kEvaluate draws the candidate's next scripted
// sample, until it decides.
VerdictAction Drive(const Case& c, const VerdictRule& rule, int* spent) {
  Ledger ledger;
  ledger.eager_logs = c.eager_logs;
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
      {"a clear win: one fresh sample", Eager(3, 0.01), {{2.0, {2.0}}}, 0, 1},
      {"a clear loss: not looked at again", Eager(3, 0.01), {{0.5, {}}}, -1, 0},
      {"a gain at the noise level: sampled to the cap, not kept",
       Eager(3, 0.01), {{1.05, {1.01, 1.0, 1.02}}}, -1, 3},
      {"fast once, slower on its fresh samples: dropped after one",
       Eager(3, 0.01), {{1.5, {0.9}}}, -1, 1},
      {"a fresh evaluation fails: never kept", Eager(3, 0.01), {{2.0, {kFails}}}, -1, 1},
      {"many candidates, one real winner: the winner's curse picks none of the others",
       Eager(3, 0.01),
       {{1.08, {}}, {1.05, {}}, {0.97, {}}, {1.02, {}}, {0.95, {}}, {1.06, {}}, {1.3, {1.3}},
        {1.01, {}}, {0.99, {}}, {1.04, {}}},
       6, 1},
      {"many candidates, no real winner: the problem's cap bounds the cost",
       Eager(3, 0.01),
       {{1.08, {1.0, 1.0}}, {1.07, {1.0, 1.0}}, {1.06, {1.0, 1.0}}, {1.05, {1.0}}},
       -1, 6},
      {"a noisy device, 0.85x on its first evaluation: not shown faster within the cap, not sampled",
       Eager(8, 0.1), {{0.85, {}}}, -1, 0},
      {"a noisy device, 0.95x: sampled, dropped as soon as its cap could not show it faster",
       Eager(8, 0.1), {{0.95, {0.95, 0.95}}}, -1, 2},
      {"two candidates within noise: the earlier stays, the later gets one challenge",
       Eager(3, 0.01), {{1.50, {1.50}}, {1.52, {1.50}}}, 0, 2},
      {"the later of two close candidates is clearly faster in a fresh process: it takes over",
       Eager(3, 0.01), {{1.50, {1.50}}, {1.52, {2.0}}}, 1, 2},
      {"a candidate clearly faster on first evaluations goes first, the other is not needed",
       Eager(3, 0.01), {{1.2, {}}, {3.0, {3.0}}}, 1, 1},
      {"a 1.1x gain on a quiet device: kept on one sample", Eager(8, 0.001), {{1.1, {1.1}}}, 0, 1},
      {"the same 1.1x gain on a noisy device: not shown", Eager(8, 0.1),
       {{1.1, {1.1, 1.1, 1.1}}}, -1, 3},
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
  ledger.eager_logs = Eager(3, 0.01);
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

TEST(VerdictPolicyTest, NoiseIsPooledFromEagerAndRepeatedSamplesWithThePrior) {
  VerdictRule rule;
  Ledger none;
  EXPECT_DOUBLE_EQ(SampleNoise(none, rule), rule.prior_sigma);
  Ledger quiet;
  quiet.eager_logs = std::vector<double>(50, 1.0);
  EXPECT_NEAR(SampleNoise(quiet, rule), rule.prior_sigma / std::sqrt(50.0), 1e-12);  // 1 + 49 dof
  Ledger exact;
  exact.eager_logs = std::vector<double>(1000, 1.0);
  rule.prior_weight = 0;
  EXPECT_DOUBLE_EQ(SampleNoise(exact, rule), rule.min_sigma);
  // Eager spread by +-0.1: each sample is a ratio of two timings, twice eager's variance.
  Ledger noisy;
  noisy.eager_logs = {0.9, 1.1, 0.9, 1.1};
  EXPECT_NEAR(SampleNoise(noisy, rule), std::sqrt(2.0 * 0.04 / 3.0), 1e-12);
  noisy.contenders.push_back(Contender{1, 0.5, {0.2, 0.4}});
  EXPECT_NEAR(SampleNoise(noisy, rule), std::sqrt((2.0 * 0.04 + 0.02) / 4.0), 1e-12);
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
  auto back = ParseVerdictRule(VerdictRuleJson(rule));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(VerdictRuleJson(*back), VerdictRuleJson(rule));
  EXPECT_EQ(back->max_per_problem, 4);
  auto defaults = ParseVerdictRule(R"({"min_gain": 0.02})");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->min_gain, 0.02);
  EXPECT_EQ(defaults->z, VerdictRule{}.z);
  for (const char* bad : {"[]", "not json", R"({"rule": "two_of_three"})", R"({"z": "wide"})",
                          R"({"z": 0})", R"({"max_fresh": 0})", R"({"prior_sigma": -1})"}) {
    auto parsed = ParseVerdictRule(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace kswarm::supervisor
