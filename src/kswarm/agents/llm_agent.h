// LLM agents: a model behind an API endpoint writes candidates. The first attempt sends the
// reference and the target (prompts/task.mustache); each later one replays the conversation
// with the evaluator's verdict on every earlier attempt (prompts/feedback.mustache), so the
// agent itself keeps no state between calls. Prompts are documented in docs/prompts.md.
#pragma once

#include <memory>
#include <string>

#include "kswarm/agents/agent.h"
#include "kswarm/llm/client.h"
#include "kswarm/llm/provider.h"
#include "kswarm/util/status.h"

namespace kswarm::agents {

struct LlmAgentConfig {
  llm::Endpoint endpoint;  // endpoint.name is the agent's name
  int attempts = 5;
  std::string prompts_dir;  // empty: PromptsDir()
  ContextConfig context;
  MemberBudget budget;
  std::shared_ptr<ProfileAdvisor> advisor;  // may be null
};

// $KSWARM_PROMPTS_DIR, else the prompts/ folder of the source tree kswarm was built from.
std::string PromptsDir();

// The chat for the next attempt of `request`. kInvalidArgument when a template is missing.
Result<llm::ChatRequest> BuildChat(const std::string& prompts_dir, const AgentRequest& request);

// The helper's chat for one profile (prompts/hints_system.mustache, prompts/hints.mustache).
Result<llm::ChatRequest> BuildAdviceChat(const std::string& prompts_dir,
                                         const AdviceRequest& request);

// A profile helper that asks `client` (the endpoint of another [[models]] entry).
std::shared_ptr<ProfileAdvisor> MakeLlmAdvisor(llm::Endpoint endpoint,
                                               std::shared_ptr<llm::ChatClient> client,
                                               std::string prompts_dir = "");

struct ExtractedCode {
  std::string code;
  bool found = false;      // a fenced block (or bare source) defining ModelNew
  bool truncated = false;  // the block chosen has no closing fence
};

// The candidate in a reply: the last fenced block that defines ModelNew (a python or untagged
// block), else one cut off by the end of the reply, else the longest python block, else the
// whole reply when it defines ModelNew with no fences.
ExtractedCode ExtractCode(const std::string& reply);

// An agent named endpoint.name that asks `client` for each attempt.
std::unique_ptr<Agent> MakeLlmAgent(LlmAgentConfig config,
                                    std::shared_ptr<llm::ChatClient> client);

}  // namespace kswarm::agents
