#include "kswarm/agents/llm_agent.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include "kswarm/util/files.h"

#ifndef KSWARM_PROMPTS_DIR
#define KSWARM_PROMPTS_DIR "prompts"
#endif

namespace kswarm::agents {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;
using nlohmann::json;

constexpr size_t kMaxFeedbackChars = 4000;
constexpr size_t kMaxReferenceChars = 24000;
constexpr size_t kMaxMetricsChars = 12000;

Result<std::string> Render(const std::string& dir, const std::string& name, const data& vars) {
  std::string path = (std::filesystem::path(dir) / (name + ".mustache")).string();
  auto text = ReadFile(path);
  if (!text) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("prompt template {}", text.error().message()));
  }
  mustache tmpl(*text);
  if (!tmpl.is_valid()) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("prompt template {}: {}", path, tmpl.error_message()));
  }
  return tmpl.render(vars);
}

// Keeps the head and the tail of a long evaluator message (a compiler's first error and the
// traceback's last lines matter most).
std::string Trim(const std::string& message, size_t limit = kMaxFeedbackChars) {
  if (message.size() <= limit) return message;
  size_t half = limit / 2;
  return message.substr(0, half) + fmt::format("\n[... {} characters cut ...]\n",
                                               message.size() - 2 * half) +
         message.substr(message.size() - half);
}

std::string Round(double value, int digits) { return fmt::format("{:.{}f}", value, digits); }

// The model call behind `chat`, for the record (never holds credentials).
CallRecord Record(const llm::Endpoint& endpoint, const llm::ChatRequest& chat,
                  const llm::ChatResult& result) {
  CallRecord call;
  call.model = endpoint.model;
  json messages = json::array();
  for (const auto& m : chat.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  call.request_json = json{{"system", chat.system}, {"messages", messages}}.dump();
  call.reply = result.reply.text;
  call.tokens_in = result.reply.tokens_in;
  call.tokens_out = result.reply.tokens_out;
  call.cost_usd = (call.tokens_in * endpoint.usd_per_mtok_in +
                   call.tokens_out * endpoint.usd_per_mtok_out) / 1e6;
  call.latency_ms = result.latency_ms;
  call.retries = result.retries;
  call.truncated = result.reply.truncated;
  return call;
}

data TaskVars(const AgentRequest& r) {
  data vars;
  if (r.reference) {
    vars.set("reference", true);
    vars.set("reference_origin", r.reference->origin);
    vars.set("reference_code", Trim(r.reference->code, kMaxReferenceChars));
  }
  vars.set("problem_name", r.problem.name);
  vars.set("problem_source", r.problem.source);
  vars.set("trials", std::to_string(r.trials));
  vars.set("tolerance", r.tolerance);
  vars.set("device_name", r.device.name);
  vars.set("torch_version", r.device.torch_version);
  if (!r.device.cuda_version.empty()) vars.set("cuda_version", r.device.cuda_version);
  if (!r.device.triton_version.empty()) vars.set("triton_version", r.device.triton_version);
  vars.set(r.device.type == "cuda" ? "cuda" : "cpu", true);
  json device = json::parse(r.device.device_json.empty() ? "{}" : r.device.device_json, nullptr,
                            false);
  if (device.is_object()) {
    if (device.contains("capability")) vars.set("capability", device.value("capability", ""));
    if (device.value("sm_count", 0) > 0) {
      vars.set("sm_count", std::to_string(device.value("sm_count", 0)));
    }
    if (device.value("memory_bytes", 0.0) > 0) {
      vars.set("memory_gib", Round(device.value("memory_bytes", 0.0) / (1 << 30), 1));
    }
    if (device.value("l2_bytes", 0.0) > 0) {
      vars.set("l2_mib", Round(device.value("l2_bytes", 0.0) / (1 << 20), 1));
    }
    if (device.value("threads", 0) > 0) {
      vars.set("threads", std::to_string(device.value("threads", 0)));
    }
  }
  return vars;
}

class LlmAgent : public Agent {
 public:
  LlmAgent(LlmAgentConfig config, std::shared_ptr<llm::ChatClient> client)
      : config_(std::move(config)), client_(std::move(client)) {
    if (config_.prompts_dir.empty()) config_.prompts_dir = PromptsDir();
  }
  std::string name() const override { return config_.endpoint.name; }
  int max_attempts() const override { return config_.attempts; }
  bool metered() const override { return true; }
  ContextConfig context() const override { return config_.context; }
  MemberBudget budget() const override { return config_.budget; }
  ProfileAdvisor* advisor() const override { return config_.advisor.get(); }

  Result<std::optional<Proposal>> Propose(const AgentRequest& request) override {
    auto chat = BuildChat(config_.prompts_dir, request);
    if (!chat) return Error(chat.error());
    auto result = client_->Chat(*chat);
    if (!result) return Error(result.error());
    CallRecord call = Record(config_.endpoint, *chat, *result);

    ExtractedCode code = ExtractCode(result->reply.text);
    Proposal proposal;
    if (code.found || !code.code.empty()) {
      proposal.source = code.code;
    } else {
      // Nothing to run: a file without ModelNew, so the evaluator's verdict says so and that
      // goes back as the next attempt's feedback.
      std::string commented;
      std::istringstream lines(result->reply.text);
      for (std::string line; std::getline(lines, line);) commented += "# " + line + "\n";
      proposal.source = "# The reply held no fenced python block defining ModelNew.\n" + commented;
    }
    proposal.call = std::move(call);
    return std::optional<Proposal>(std::move(proposal));
  }

 private:
  LlmAgentConfig config_;
  std::shared_ptr<llm::ChatClient> client_;
};

class LlmAdvisor : public ProfileAdvisor {
 public:
  LlmAdvisor(llm::Endpoint endpoint, std::shared_ptr<llm::ChatClient> client,
             std::string prompts_dir)
      : endpoint_(std::move(endpoint)),
        client_(std::move(client)),
        prompts_dir_(prompts_dir.empty() ? PromptsDir() : std::move(prompts_dir)) {}

  Result<Advice> Advise(const AdviceRequest& request) override {
    auto chat = BuildAdviceChat(prompts_dir_, request);
    if (!chat) return Error(chat.error());
    auto result = client_->Chat(*chat);
    if (!result) return Error(result.error());
    Advice advice;
    advice.text = result->reply.text;
    advice.call = Record(endpoint_, *chat, *result);
    return advice;
  }

 private:
  llm::Endpoint endpoint_;
  std::shared_ptr<llm::ChatClient> client_;
  std::string prompts_dir_;
};

}  // namespace

std::string PromptsDir() {
  const char* env = std::getenv("KSWARM_PROMPTS_DIR");
  if (env && *env) return env;
  if (const char* src = std::getenv("KSWARM_SOURCE_DIR"); src && *src) {
    return (std::filesystem::path(src) / "prompts").string();
  }
  return KSWARM_PROMPTS_DIR;
}

Result<llm::ChatRequest> BuildChat(const std::string& dir, const AgentRequest& request) {
  llm::ChatRequest chat;
  auto system = Render(dir, "system", data());
  if (!system) return Error(system.error());
  chat.system = *system;
  auto task = Render(dir, "task", TaskVars(request));
  if (!task) return Error(task.error());
  chat.messages.push_back({"user", *task});
  for (size_t i = 0; i < request.history.size(); ++i) {
    const Attempt& a = request.history[i];
    chat.messages.push_back({"assistant", "```python\n" + a.source + "\n```"});
    data vars;
    vars.set("attempt", std::to_string(i + 1));
    bool passed = a.outcome == core::Outcome::kPassed;
    vars.set("passed", passed);
    vars.set("outcome", std::string(core::OutcomeName(a.outcome)));
    vars.set("message", Trim(a.message));
    bool slower = !a.speedup || *a.speedup <= 1.0;
    vars.set("slower", slower);
    if (a.speedup) vars.set("speedup", Round(*a.speedup, 2));
    if (!a.profile.empty()) vars.set("profile", Trim(a.profile, kMaxMetricsChars));
    auto feedback = Render(dir, "feedback", vars);
    if (!feedback) return Error(feedback.error());
    chat.messages.push_back({"user", *feedback});
  }
  return chat;
}

Result<llm::ChatRequest> BuildAdviceChat(const std::string& dir, const AdviceRequest& request) {
  llm::ChatRequest chat;
  auto system = Render(dir, "hints_system", data());
  if (!system) return Error(system.error());
  chat.system = *system;
  AgentRequest task;
  task.problem = request.problem;
  task.device = request.device;
  data vars = TaskVars(task);
  vars.set("candidate_source", request.source);
  if (request.speedup) vars.set("speedup", Round(*request.speedup, 2));
  vars.set("tool", request.tool);
  vars.set("metrics", Trim(request.metrics_json, kMaxMetricsChars));
  vars.set("summary", request.summary);
  auto user = Render(dir, "hints", vars);
  if (!user) return Error(user.error());
  chat.messages.push_back({"user", *user});
  return chat;
}

ExtractedCode ExtractCode(const std::string& reply) {
  struct Block {
    std::string lang, code;
    bool closed = false;
  };
  std::vector<Block> blocks;
  std::istringstream in(reply);
  std::string line;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t indent = line.find_first_not_of(" \t");
    bool fence = indent != std::string::npos && line.compare(indent, 3, "```") == 0;
    if (fence && !open) {
      blocks.push_back({line.substr(indent + 3), "", false});
      open = &blocks.back();
      auto& lang = open->lang;
      lang.erase(0, lang.find_first_not_of(" \t"));
      lang.erase(lang.find_last_not_of(" \t") + 1);
    } else if (fence && open && line.find_first_not_of("` \t") == std::string::npos) {
      open->closed = true;
      open = nullptr;
    } else if (open) {
      open->code += line + "\n";
    }
  }
  auto python = [](const Block& b) {
    return b.lang.empty() || b.lang == "python" || b.lang == "py" || b.lang == "python3";
  };
  auto defines = [](const Block& b) { return b.code.find("class ModelNew") != std::string::npos; };
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (python(*it) && defines(*it) && it->closed) return {it->code, true, false};
  }
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (python(*it) && defines(*it)) return {it->code, true, true};
  }
  const Block* longest = nullptr;
  for (const Block& b : blocks) {
    if (python(b) && (!longest || b.code.size() > longest->code.size())) longest = &b;
  }
  if (longest) return {longest->code, false, !longest->closed};
  if (blocks.empty() && reply.find("class ModelNew") != std::string::npos) {
    return {reply, true, false};
  }
  return {};
}

std::shared_ptr<ProfileAdvisor> MakeLlmAdvisor(llm::Endpoint endpoint,
                                               std::shared_ptr<llm::ChatClient> client,
                                               std::string prompts_dir) {
  return std::make_shared<LlmAdvisor>(std::move(endpoint), std::move(client),
                                      std::move(prompts_dir));
}

std::unique_ptr<Agent> MakeLlmAgent(LlmAgentConfig config,
                                    std::shared_ptr<llm::ChatClient> client) {
  return std::make_unique<LlmAgent>(std::move(config), std::move(client));
}

}  // namespace kswarm::agents
