#include "kswarm/agents/llm_agent.h"

#include <gtest/gtest.h>

namespace kswarm::agents {
namespace {

// A client that answers from a script and keeps what it was asked.
class ScriptedClient : public llm::ChatClient {
 public:
  explicit ScriptedClient(std::vector<std::string> replies) : replies_(std::move(replies)) {}
  Result<llm::ChatResult> Chat(const llm::ChatRequest& request) override {
    asked.push_back(request);
    llm::ChatResult r;
    r.reply.text = replies_.at(asked.size() - 1);
    r.reply.tokens_in = 1000;
    r.reply.tokens_out = 500;
    r.latency_ms = 12;
    return r;
  }
  std::vector<llm::ChatRequest> asked;

 private:
  std::vector<std::string> replies_;
};

AgentRequest Request(const std::string& device_type) {
  AgentRequest r;
  r.problem.name = "07_gelu";
  r.problem.source = "class Model(nn.Module):\n    pass  # REFERENCE-MARKER\n";
  r.device.type = device_type;
  r.device.name = device_type == "cuda" ? "NVIDIA H100 80GB HBM3" : "AMD EPYC";
  r.device.device_json = device_type == "cuda"
      ? R"({"sm_count": 132, "memory_bytes": 85520809984, "l2_bytes": 52428800, "capability": "9.0"})"
      : R"({"threads": 2})";
  r.device.torch_version = "2.11.0";
  r.trials = 100;
  return r;
}

TEST(ExtractCodeTest, PicksTheBlockThatDefinesModelNewAmongProseAndOtherBlocks) {
  auto e = ExtractCode("Here is a plan:\n```bash\npip install x\n```\nand the code:\n"
                       "```python\nclass ModelNew(nn.Module):\n    v = 1\n```\n"
                       "A second version:\n```py\nclass ModelNew(nn.Module):\n    v = 2\n```\nDone.");
  EXPECT_TRUE(e.found);
  EXPECT_FALSE(e.truncated);
  EXPECT_EQ(e.code, "class ModelNew(nn.Module):\n    v = 2\n");

  auto cut = ExtractCode("```python\nimport torch\nclass ModelNew(nn.Module):\n    def forw");
  EXPECT_TRUE(cut.found);
  EXPECT_TRUE(cut.truncated);
  EXPECT_NE(cut.code.find("def forw"), std::string::npos);

  auto no_model = ExtractCode("```python\nimport torch\n```");
  EXPECT_FALSE(no_model.found);
  EXPECT_EQ(no_model.code, "import torch\n");

  EXPECT_TRUE(ExtractCode("import torch\nclass ModelNew(nn.Module): pass\n").found);
  EXPECT_EQ(ExtractCode("I cannot help with that.").code, "");
}

TEST(LlmAgentTest, TheFirstPromptCarriesTheReferenceTheTargetAndTheRules) {
  auto chat = BuildChat(PromptsDir(), Request("cuda"));
  ASSERT_TRUE(chat.has_value()) << chat.error().ToString();
  EXPECT_FALSE(chat->system.empty());
  ASSERT_EQ(chat->messages.size(), 1u);
  const std::string& task = chat->messages[0].content;
  for (const char* want : {"REFERENCE-MARKER", "NVIDIA H100 80GB HBM3", "132 SMs", "50.0 MiB of L2",
                           "79.6 GiB", "compute capability 9.0", "ModelNew", "100 random inputs",
                           "load_inline"}) {
    EXPECT_NE(task.find(want), std::string::npos) << want << " missing from:\n" << task;
  }
  EXPECT_EQ(task.find("OpenMP"), std::string::npos);

  auto cpu = BuildChat(PromptsDir(), Request("cpu"));
  ASSERT_TRUE(cpu.has_value());
  EXPECT_NE(cpu->messages[0].content.find("OpenMP"), std::string::npos);
  EXPECT_NE(cpu->messages[0].content.find("2 threads"), std::string::npos);
}

TEST(LlmAgentTest, EachAttemptReplaysTheConversationWithTheEvaluatorsVerdicts) {
  auto client = std::make_shared<ScriptedClient>(std::vector<std::string>{
      "```python\nclass ModelNew(nn.Module): pass  # third\n```"});
  llm::Endpoint endpoint;
  endpoint.name = "model-x";
  endpoint.model = "x-1";
  endpoint.usd_per_mtok_in = 2;
  endpoint.usd_per_mtok_out = 10;
  LlmAgentConfig config;
  config.endpoint = endpoint;
  auto agent = MakeLlmAgent(config, client);
  EXPECT_EQ(agent->name(), "model-x");
  EXPECT_EQ(agent->max_attempts(), 5);
  EXPECT_TRUE(agent->metered());

  AgentRequest request = Request("cpu");
  request.history.push_back({"first source", core::Outcome::kCompileError,
                             "error: expected ';' before '}' token", std::nullopt, ""});
  request.history.push_back({"second source", core::Outcome::kPassed,
                             "candidate 2.0 ms vs eager 1.5 ms", 0.75, ""});
  auto proposal = agent->Propose(request);
  ASSERT_TRUE(proposal.has_value() && proposal->has_value());
  EXPECT_EQ((*proposal)->source, "class ModelNew(nn.Module): pass  # third\n");
  ASSERT_TRUE((*proposal)->call.has_value());
  const CallRecord& call = *(*proposal)->call;
  EXPECT_EQ(call.model, "x-1");
  EXPECT_EQ(call.tokens_in, 1000);
  EXPECT_DOUBLE_EQ(call.cost_usd, (1000 * 2 + 500 * 10) / 1e6);
  EXPECT_NE(call.request_json.find("expected ';'"), std::string::npos);

  const auto& messages = client->asked.at(0).messages;
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[1].role, "assistant");
  EXPECT_NE(messages[1].content.find("first source"), std::string::npos);
  EXPECT_NE(messages[2].content.find("Attempt 1 failed: compile_error"), std::string::npos)
      << messages[2].content;
  EXPECT_NE(messages[2].content.find("expected ';'"), std::string::npos);
  EXPECT_NE(messages[4].content.find("correct but not faster than PyTorch eager"),
            std::string::npos) << messages[4].content;
  EXPECT_NE(messages[4].content.find("2.0 ms vs eager 1.5 ms"), std::string::npos);
}

TEST(LlmAgentTest, AReplyWithoutCodeBecomesAFileWithoutModelNew) {
  auto client = std::make_shared<ScriptedClient>(std::vector<std::string>{"I'd rather not."});
  auto agent = MakeLlmAgent(LlmAgentConfig{}, client);
  auto proposal = agent->Propose(Request("cpu"));
  ASSERT_TRUE(proposal.has_value() && proposal->has_value());
  EXPECT_EQ((*proposal)->source.find("class ModelNew"), std::string::npos);
  EXPECT_NE((*proposal)->source.find("# I'd rather not."), std::string::npos);
}

TEST(LlmAgentTest, TheReferenceAndTheProfileGoWhereTheyBelong) {
  AgentRequest plain = Request("cpu");
  plain.history.push_back({"first source", core::Outcome::kPassed, "ok", 1.3, ""});
  auto without = BuildChat(PromptsDir(), plain);
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(without->messages[0].content.find("reference implementation"), std::string::npos);
  EXPECT_EQ(without->messages[2].content.find("Profile of attempt"), std::string::npos);

  AgentRequest rich = plain;
  rich.reference = ReferenceContext{"torch.compile's generated code (cpu)",
                                    "def cpp_fused_marker(): pass"};
  rich.history[0].profile = "One call takes 0.3 ms (the evaluation's median).";
  auto with = BuildChat(PromptsDir(), rich);
  ASSERT_TRUE(with.has_value());
  const std::string& task = with->messages[0].content;
  EXPECT_NE(task.find("A reference implementation: torch.compile's generated code (cpu)"),
            std::string::npos) << task;
  EXPECT_NE(task.find("def cpp_fused_marker(): pass"), std::string::npos);
  EXPECT_LT(task.find("cpp_fused_marker"), task.find("## The target"));
  const std::string& feedback = with->messages[2].content;
  EXPECT_NE(feedback.find("## Profile of attempt 1"), std::string::npos) << feedback;
  EXPECT_NE(feedback.find("One call takes 0.3 ms (the evaluation's median)."), std::string::npos);

  LlmAgentConfig config;
  config.context = *ParseContext("both");
  auto agent = MakeLlmAgent(config, std::make_shared<ScriptedClient>(std::vector<std::string>{}));
  EXPECT_TRUE(agent->context().reference && agent->context().profile);
  EXPECT_EQ(agent->advisor(), nullptr);
  EXPECT_EQ(ContextName(agent->context()), "both");
  EXPECT_FALSE(ParseContext("all").has_value());
}

TEST(LlmAgentTest, TheProfileHelperReadsTheMetricsWithTheSource) {
  auto client = std::make_shared<ScriptedClient>(
      std::vector<std::string>{"- Memory-bound at 38% of DRAM peak: fuse the multiply."});
  llm::Endpoint endpoint;
  endpoint.name = "helper";
  endpoint.model = "helper-1";
  auto advisor = MakeLlmAdvisor(endpoint, client);
  AdviceRequest request;
  request.problem = Request("cuda").problem;
  request.device = Request("cuda").device;
  request.source = "class ModelNew: pass  # profiled";
  request.speedup = 1.25;
  request.tool = "ncu";
  request.metrics_json = R"({"kernels": [{"name": "gelu_kernel", "dram_pct": 38.3}]})";
  request.summary = "One call takes 0.2 ms.";
  auto advice = advisor->Advise(request);
  ASSERT_TRUE(advice.has_value()) << advice.error().message();
  EXPECT_EQ(advice->text, "- Memory-bound at 38% of DRAM peak: fuse the multiply.");
  EXPECT_EQ(advice->call.model, "helper-1");
  const auto& asked = client->asked.at(0);
  ASSERT_EQ(asked.messages.size(), 1u);
  const std::string& prompt = asked.messages[0].content;
  for (const char* part : {"class ModelNew: pass  # profiled", "gelu_kernel", "38.3",
                           "One call takes 0.2 ms.", "1.25x", "The profile (ncu)"}) {
    EXPECT_NE(prompt.find(part), std::string::npos) << part << "\n" << prompt;
  }
  EXPECT_NE(asked.system.find("You do not write the code"), std::string::npos);
}

TEST(LlmAgentTest, AMissingTemplateIsBadInput) {
  auto chat = BuildChat("/nonexistent/prompts", Request("cpu"));
  ASSERT_FALSE(chat.has_value());
  EXPECT_EQ(chat.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kswarm::agents
