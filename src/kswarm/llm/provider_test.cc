#include "kswarm/llm/provider.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kswarm::llm {
namespace {

using nlohmann::json;

ChatRequest Chat() {
  return {"be brief", {{"user", "hi"}, {"assistant", "hello"}, {"user", "again"}}};
}

bool HasHeader(const HttpRequest& r, const std::string& h) {
  return std::find(r.headers.begin(), r.headers.end(), h) != r.headers.end();
}

TEST(ProviderTest, OpenAiChatRequest) {
  Endpoint e;
  e.api = Api::kOpenAi;
  e.base_url = "https://api.openai.com/v1/";
  e.model = "gpt-5";
  e.max_output_tokens = 1000;
  e.reasoning_effort = "high";
  HttpRequest r = BuildHttpRequest(e, Chat(), "sk-1");
  EXPECT_EQ(r.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_TRUE(HasHeader(r, "Authorization: Bearer sk-1"));
  json b = json::parse(r.body);
  EXPECT_EQ(b["model"], "gpt-5");
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  EXPECT_EQ(b["max_completion_tokens"], 1000);
  EXPECT_EQ(b["reasoning_effort"], "high");
  ASSERT_EQ(b["messages"].size(), 4u);
  EXPECT_EQ(b["messages"][0]["role"], "developer");
  EXPECT_EQ(b["messages"][3]["content"], "again");

  e.api = Api::kOpenAiCompatible;
  e.reasoning_effort.clear();
  b = json::parse(BuildHttpRequest(e, Chat(), "").body);
  EXPECT_EQ(b["max_tokens"], 1000);
  EXPECT_EQ(b["messages"][0]["role"], "system");
  EXPECT_FALSE(b.contains("reasoning_effort"));
  EXPECT_FALSE(HasHeader(BuildHttpRequest(e, Chat(), ""), "Authorization: Bearer "));
}

TEST(ProviderTest, ResponsesAndAnthropicRequests) {
  Endpoint e;
  e.api = Api::kOpenAiResponses;
  e.model = "gpt-5";
  e.max_output_tokens = 500;
  e.reasoning_effort = "low";
  HttpRequest r = BuildHttpRequest(e, Chat(), "k");
  EXPECT_EQ(r.url, "https://api.openai.com/v1/responses");
  json b = json::parse(r.body);
  EXPECT_EQ(b["instructions"], "be brief");
  EXPECT_EQ(b["input"].size(), 3u);
  EXPECT_EQ(b["max_output_tokens"], 500);
  EXPECT_EQ(b["reasoning"]["effort"], "low");

  Endpoint a;
  a.api = Api::kAnthropic;
  a.model = "claude-x";
  a.max_output_tokens = 700;
  r = BuildHttpRequest(a, Chat(), "ak");
  EXPECT_EQ(r.url, "https://api.anthropic.com/v1/messages");
  EXPECT_TRUE(HasHeader(r, "x-api-key: ak"));
  EXPECT_TRUE(HasHeader(r, "anthropic-version: 2023-06-01"));
  b = json::parse(r.body);
  EXPECT_EQ(b["system"], "be brief");
  EXPECT_EQ(b["max_tokens"], 700);
  EXPECT_EQ(b["messages"].size(), 3u);
  EXPECT_FALSE(b.contains("thinking"));
}

TEST(ProviderTest, DecodesEachApisStream) {
  StreamDecoder openai(Api::kOpenAi);
  ASSERT_TRUE(openai.OnEvent({"message", R"({"choices":[{"delta":{"content":"ab"}}]})"}).ok());
  ASSERT_TRUE(openai.OnEvent({"message", R"({"choices":[{"delta":{},"finish_reason":"length"}]})"}).ok());
  ASSERT_TRUE(openai.OnEvent({"message", R"({"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}})"}).ok());
  EXPECT_FALSE(openai.done());
  ASSERT_TRUE(openai.OnEvent({"message", "[DONE]"}).ok());
  EXPECT_TRUE(openai.done());
  EXPECT_EQ(openai.reply().text, "ab");
  EXPECT_EQ(openai.reply().tokens_in, 7);
  EXPECT_EQ(openai.reply().tokens_out, 3);
  EXPECT_TRUE(openai.reply().truncated);

  StreamDecoder anthropic(Api::kAnthropic);
  ASSERT_TRUE(anthropic.OnEvent({"message_start", R"({"type":"message_start","message":{"usage":{"input_tokens":11,"output_tokens":1}}})"}).ok());
  ASSERT_TRUE(anthropic.OnEvent({"content_block_delta", R"({"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"hmm"}})"}).ok());
  ASSERT_TRUE(anthropic.OnEvent({"content_block_delta", R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}})"}).ok());
  ASSERT_TRUE(anthropic.OnEvent({"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}})"}).ok());
  ASSERT_TRUE(anthropic.OnEvent({"message_stop", R"({"type":"message_stop"})"}).ok());
  EXPECT_TRUE(anthropic.done());
  EXPECT_EQ(anthropic.reply().text, "x");
  EXPECT_EQ(anthropic.reply().tokens_in, 11);
  EXPECT_EQ(anthropic.reply().tokens_out, 5);
  EXPECT_FALSE(anthropic.reply().truncated);

  StreamDecoder responses(Api::kOpenAiResponses);
  ASSERT_TRUE(responses.OnEvent({"response.output_text.delta", R"({"type":"response.output_text.delta","delta":"q"})"}).ok());
  ASSERT_TRUE(responses.OnEvent({"response.completed", R"({"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":2,"output_tokens":4}}})"}).ok());
  EXPECT_TRUE(responses.done());
  EXPECT_EQ(responses.reply().text, "q");
  EXPECT_EQ(responses.reply().tokens_out, 4);
}

TEST(ProviderTest, ErrorEventsAndMalformedDataFail) {
  StreamDecoder anthropic(Api::kAnthropic);
  Status s = anthropic.OnEvent({"error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("overloaded_error: Overloaded"), std::string::npos) << s.message();
  StreamDecoder openai(Api::kOpenAi);
  EXPECT_FALSE(openai.OnEvent({"message", "{not json"}).ok());
  EXPECT_FALSE(openai.OnEvent({"message", R"({"error":{"message":"boom"}})"}).ok());
  EXPECT_EQ(ApiErrorMessage("<html>bad gateway</html>"), "<html>bad gateway</html>");
}

}  // namespace
}  // namespace kswarm::llm
