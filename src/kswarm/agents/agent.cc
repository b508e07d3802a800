#include "kswarm/agents/agent.h"

namespace kswarm::agents {

std::string ContextName(ContextConfig context) {
  if (context.reference && context.profile) return "both";
  if (context.reference) return "reference";
  if (context.profile) return "profile";
  return "none";
}

std::optional<ContextConfig> ParseContext(const std::string& name) {
  if (name == "none") return ContextConfig{};
  if (name == "reference") return ContextConfig{true, false};
  if (name == "profile") return ContextConfig{false, true};
  if (name == "both") return ContextConfig{true, true};
  return std::nullopt;
}

}  // namespace kswarm::agents
