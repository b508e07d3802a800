#include "kswarm/supervisor/verdict_policy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

void NoisePool::Add(const std::vector<double>& samples) {
  for (size_t i = 1; i < samples.size(); ++i) {
    steps.push_back(std::abs(samples[i] - samples[i - 1]));
  }
}

double NoisePool::Sigma() const {
  if (steps.empty()) return 0;
  std::vector<double> sorted = steps;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return median / (0.6745 * std::sqrt(2.0));
}

double SampleNoise(const Ledger& ledger, const VerdictRule& rule) {
  // Each level is a variance beside the one above it, which counts for `weight` samples.
  auto beside = [](double above, double weight, double var, double dof) {
    return weight + dof > 0 ? (weight * above + var * dof) / (weight + dof) : above;
  };
  double run_sigma = ledger.run.Sigma();
  double run_var = beside(rule.prior_sigma * rule.prior_sigma, rule.prior_weight,
                          run_sigma * run_sigma, static_cast<double>(ledger.run.steps.size()));
  double ss = 0, dof = 0;
  for (const Contender& c : ledger.contenders) {
    ss += SumSquares(c.fresh);
    dof += c.fresh.size() > 1 ? static_cast<double>(c.fresh.size() - 1) : 0;
  }
  double var = beside(run_var, rule.run_weight, dof > 0 ? ss / dof : 0, dof);
  return std::max(rule.min_sigma, std::sqrt(var));
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
  // The smallest mean that max_fresh samples can show above the threshold: a candidate whose
  // estimate is below it is unlikely to be kept within its cap, so no sample is spent on it.
  const double reach = threshold + z * sigma / std::sqrt(static_cast<double>(rule.max_fresh));
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
        if (c.screen < reach || !can_spend) continue;
        return evaluate(c, fmt::format("{:.3f}x on its first evaluation: a fresh sample against eager",
                                       Speedup(c.screen)));
      }
      Estimate e = FreshEstimate(c, sigma, rule);
      if (e.low > threshold) {
        leader = &c;
        lead = e;
      } else if (e.log_gain >= reach && n < rule.max_fresh && can_spend) {
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

std::string VerdictRuleJson(const VerdictRule& r) {
  return nlohmann::json{{"rule", "sequential"},          {"min_gain", r.min_gain},
                        {"z", r.z},                      {"max_fresh", r.max_fresh},
                        {"max_challenge", r.max_challenge}, {"max_per_problem", r.max_per_problem},
                        {"prior_sigma", r.prior_sigma},  {"prior_weight", r.prior_weight},
                        {"run_weight", r.run_weight},    {"min_sigma", r.min_sigma},
                        {"fresh_trials", r.fresh_trials}}
      .dump();
}

Result<VerdictRule> ParseVerdictRule(const std::string& text) {
  auto bad = [](const std::string& why) {
    return Error(StatusCode::kInvalidArgument, "verdict rule: " + why);
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return bad("not a JSON object");
  if (j.value("rule", std::string("sequential")) != "sequential") {
    return bad("unknown rule " + j["rule"].dump());
  }
  VerdictRule r;
  try {
    r.min_gain = j.value("min_gain", r.min_gain);
    r.z = j.value("z", r.z);
    r.max_fresh = j.value("max_fresh", r.max_fresh);
    r.max_challenge = j.value("max_challenge", r.max_challenge);
    r.max_per_problem = j.value("max_per_problem", r.max_per_problem);
    r.prior_sigma = j.value("prior_sigma", r.prior_sigma);
    r.prior_weight = j.value("prior_weight", r.prior_weight);
    r.run_weight = j.value("run_weight", r.run_weight);
    r.min_sigma = j.value("min_sigma", r.min_sigma);
    r.fresh_trials = j.value("fresh_trials", r.fresh_trials);
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  if (r.min_gain < 0 || r.z <= 0 || r.max_fresh < 1 || r.max_challenge < 0 ||
      r.max_per_problem < 0 || r.prior_sigma <= 0 || r.prior_weight < 0 || r.run_weight < 0 ||
      r.min_sigma <= 0 || r.fresh_trials < 1) {
    return bad("a value out of range in " + text);
  }
  return r;
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
