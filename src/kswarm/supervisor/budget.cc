#include "kswarm/supervisor/budget.h"

#include <fmt/format.h>

namespace kswarm::supervisor {

std::optional<std::string> RunBudget::Exceeded(double elapsed_s) const {
  if (limits_.tokens && tokens_ >= *limits_.tokens) {
    return fmt::format("tokens: {} of {}", tokens_, *limits_.tokens);
  }
  if (limits_.usd && usd_ >= *limits_.usd) {
    return fmt::format("cost: ${:.2f} of ${:.2f}", usd_, *limits_.usd);
  }
  if (limits_.wall_s && elapsed_s >= *limits_.wall_s) {
    return fmt::format("wall time: {:.0f} s of {:.0f} s", elapsed_s, *limits_.wall_s);
  }
  return std::nullopt;
}

}  // namespace kswarm::supervisor
