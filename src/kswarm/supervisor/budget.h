// What a run may spend on metered (LLM) agents: tokens, dollars and wall time. A limit left unset
// is no limit. Not thread-safe: the suite runner calls it under its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kswarm::supervisor {

struct BudgetLimits {
  std::optional<int64_t> tokens;  // input + output tokens over the whole run
  std::optional<double> usd;
  std::optional<double> wall_s;   // since this invocation of the run started
};

class RunBudget {
 public:
  explicit RunBudget(BudgetLimits limits = {}) : limits_(limits) {}
  void Spend(int64_t tokens, double usd) {
    tokens_ += tokens;
    usd_ += usd;
  }
  // The first limit reached ("tokens: 10200 of 10000"), or nullopt while there is budget left.
  std::optional<std::string> Exceeded(double elapsed_s) const;
  int64_t tokens() const { return tokens_; }
  double usd() const { return usd_; }
  const BudgetLimits& limits() const { return limits_; }

 private:
  BudgetLimits limits_;
  int64_t tokens_ = 0;
  double usd_ = 0;
};

}  // namespace kswarm::supervisor
