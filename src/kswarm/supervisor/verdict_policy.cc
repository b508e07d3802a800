#include "kswarm/supervisor/verdict_policy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace kswarm::supervisor {
namespace {

// Sum of squared deviations from the mean.
double SumSquares(const std::vector<double>& xs) {
  if (xs.size() < 2) return 0;
  double mean = std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size();
  double ss = 0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  return ss;
}

Estimate FreshEstimate(const Contender& c, double sigma, const VerdictRule& rule) {
  Estimate e;
  e.samples = static_cast<int>(c.fresh.size());
  e.log_gain = std::accumulate(c.fresh.begin(), c.fresh.end(), 0.0) / e.samples;
  double half = rule.z * sigma / std::sqrt(static_cast<double>(e.samples));
  e.low = e.log_gain - half;
  e.high = e.log_gain + half;
  return e;
}

double Speedup(double log_gain) { return std::exp(log_gain); }

}  // namespace

double SampleNoise(const Ledger& ledger, const VerdictRule& rule) {
  double ss = rule.prior_weight * rule.prior_sigma * rule.prior_sigma;
  double dof = rule.prior_weight;
  if (ledger.eager_logs.size() >= 2) {
    ss += 2.0 * SumSquares(ledger.eager_logs);
    dof += static_cast<double>(ledger.eager_logs.size() - 1);
  }
  for (const Contender& c : ledger.contenders) {
    if (c.fresh.size() < 2) continue;
    ss += SumSquares(c.fresh);
    dof += static_cast<double>(c.fresh.size() - 1);
  }
  return std::max(rule.min_sigma, std::sqrt(ss / dof));
}

std::vector<size_t> ScreenOrder(const Ledger& ledger, double sigma, const VerdictRule& rule) {
  const auto& cs = ledger.contenders;
  double clearly = std::log1p(rule.min_gain) + rule.z * sigma * std::sqrt(2.0);
  std::vector<size_t> remaining(cs.size());
  std::iota(remaining.begin(), remaining.end(), size_t{0});
  std::vector<size_t> order;
  while (!remaining.empty()) {
    auto next = std::find_if(remaining.begin(), remaining.end(), [&](size_t i) {
      return std::none_of(remaining.begin(), remaining.end(),
                          [&](size_t j) { return cs[j].screen - cs[i].screen > clearly; });
    });
    order.push_back(*next);
    remaining.erase(next);
  }
  return order;
}

VerdictAction NextVerdictAction(const Ledger& ledger, const VerdictRule& rule) {
  const double sigma = SampleNoise(ledger, rule);
  const double threshold = std::log1p(rule.min_gain);
  const double z = rule.z;
  int spent = 0;
  for (const Contender& c : ledger.contenders) {
    spent += static_cast<int>(c.fresh.size()) + (c.failed ? 1 : 0);
  }
  const bool can_spend = spent < rule.max_per_problem;
  auto evaluate = [&](const Contender& c, std::string reason) {
    return VerdictAction{VerdictAction::Kind::kEvaluate, c.id, std::move(reason), std::nullopt,
                         sigma};
  };

  const Contender* leader = nullptr;
  Estimate lead;
  for (size_t i : ScreenOrder(ledger, sigma, rule)) {
    const Contender& c = ledger.contenders[i];
    if (c.failed) continue;
    const int n = static_cast<int>(c.fresh.size());
    if (!leader) {
      if (n == 0) {
        if (c.screen + z * sigma <= threshold || !can_spend) continue;
        return evaluate(c, fmt::format("{:.3f}x on its first evaluation: a fresh sample against eager",
                                       Speedup(c.screen)));
      }
      Estimate e = FreshEstimate(c, sigma, rule);
      if (e.low > threshold) {
        leader = &c;
        lead = e;
      } else if (e.high > threshold && n < rule.max_fresh && can_spend) {
        return evaluate(c, fmt::format("{:.3f}x [{:.3f}x, {:.3f}x] over {} fresh sample(s): undecided",
                                       Speedup(e.log_gain), Speedup(e.low), Speedup(e.high), n));
      }
      continue;
    }
    // A challenger: looked at only while it could still be clearly faster than the leader.
    double mean = n == 0 ? c.screen : FreshEstimate(c, sigma, rule).log_gain;
    double se = sigma / std::sqrt(static_cast<double>(std::max(n, 1)));
    double lead_se = sigma / std::sqrt(static_cast<double>(lead.samples));
    double diff = mean - lead.log_gain;
    double diff_se = std::sqrt(se * se + lead_se * lead_se);
    if (diff + z * diff_se <= threshold) continue;
    if (n >= 1 && diff - z * diff_se > threshold) {
      Estimate e = FreshEstimate(c, sigma, rule);
      if (e.low > threshold) {
        leader = &c;
        lead = e;
        continue;
      }
    }
    if (n < rule.max_challenge && can_spend) {
      return evaluate(c, fmt::format("{:.3f}x against the leader's {:.3f}x: could be clearly faster",
                                     Speedup(mean), Speedup(lead.log_gain)));
    }
  }
  if (!leader) {
    return VerdictAction{VerdictAction::Kind::kKeepEager, 0,
                         "no candidate shown faster than eager by the minimum gain", std::nullopt,
                         sigma};
  }
  return VerdictAction{
      VerdictAction::Kind::kKeep, leader->id,
      fmt::format("{:.3f}x [{:.3f}x, {:.3f}x] over {} fresh sample(s)", Speedup(lead.log_gain),
                  Speedup(lead.low), Speedup(lead.high), lead.samples),
      lead, sigma};
}

const char* VerdictActionName(VerdictAction::Kind kind) {
  switch (kind) {
    case VerdictAction::Kind::kEvaluate: return "evaluate";
    case VerdictAction::Kind::kKeep: return "keep";
    case VerdictAction::Kind::kKeepEager: return "keep_eager";
  }
  return "?";
}

}  // namespace kswarm::supervisor
