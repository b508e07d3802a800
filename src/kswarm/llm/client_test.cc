#include "kswarm/llm/client.h"

#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/fake_llm_server.h"

namespace kswarm::llm {
namespace {

using kswarm::testing::ErrorReply;
using kswarm::testing::FakeLlmServer;
using kswarm::testing::FakeReply;
using kswarm::testing::StreamedReply;

class ClientTest : public ::testing::Test {
 protected:
  Endpoint MakeEndpoint(Api api) {
    Endpoint e;
    e.name = "fake";
    e.api = api;
    e.base_url = server_.base_url();
    e.model = "m";
    e.key_env = "KSWARM_TEST_FAKE_KEY";
    e.max_retries = 3;
    e.stall_timeout_ms = 1000;
    ::setenv("KSWARM_TEST_FAKE_KEY", "secret-123", 1);
    return e;
  }
  Result<ChatResult> Chat(Api api) {
    HttpChatClient client(MakeEndpoint(api), RetryPolicy{100, 5000},
                          [this](long ms) { sleeps_.push_back(ms); });
    return client.Chat({"sys", {{"user", "write a kernel"}}});
  }
  FakeLlmServer server_;
  std::vector<long> sleeps_;
};

TEST_F(ClientTest, EachApiStreamsTextAndTokenCountsOverHttp) {
  for (auto [api, name] : {std::pair{Api::kOpenAi, "openai"},
                           std::pair{Api::kOpenAiResponses, "openai-responses"},
                           std::pair{Api::kAnthropic, "anthropic"}}) {
    server_.Push(StreamedReply(name, "```python\nprint(1)\n```", 120, 45));
    auto r = Chat(api);
    ASSERT_TRUE(r.has_value()) << name << ": " << r.error().ToString();
    EXPECT_EQ(r->reply.text, "```python\nprint(1)\n```") << name;
    EXPECT_EQ(r->reply.tokens_in, 120) << name;
    EXPECT_EQ(r->reply.tokens_out, 45) << name;
    EXPECT_EQ(r->retries, 0);
  }
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer secret-123");
  EXPECT_EQ(requests[1].path, "/v1/responses");
  EXPECT_EQ(requests[2].path, "/v1/messages");
  EXPECT_EQ(requests[2].headers["x-api-key"], "secret-123");
}

TEST_F(ClientTest, RateLimitsAndServerErrorsAreRetriedHonouringRetryAfter) {
  server_.Push(ErrorReply(429, "rate_limit_error", "slow down", "2"));
  server_.Push(ErrorReply(500, "server_error", "oops"));
  server_.Push(ErrorReply(529, "overloaded_error", "Overloaded"));
  server_.Push(StreamedReply("anthropic", "done", 1, 2));
  auto r = Chat(Api::kAnthropic);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->reply.text, "done");
  EXPECT_EQ(r->retries, 3);
  ASSERT_EQ(sleeps_.size(), 3u);
  EXPECT_EQ(sleeps_[0], 2000);  // retry-after: 2
  EXPECT_LE(sleeps_[1], 200);   // backoff: up to 100 ms << 1
  EXPECT_LE(sleeps_[2], 400);
  EXPECT_NE(r->retry_log.find("HTTP 529: overloaded_error: Overloaded"), std::string::npos)
      << r->retry_log;
}

TEST_F(ClientTest, StallsCutStreamsAndMalformedEventsAreRetried) {
  FakeReply stall = StreamedReply("openai", "never finished", 1, 1);
  stall.fault = FakeReply::Fault::kStallMidStream;
  stall.stall_ms = 4000;
  server_.Push(stall);
  FakeReply cut = StreamedReply("openai", "cut short", 1, 1);
  cut.fault = FakeReply::Fault::kCutMidStream;
  server_.Push(cut);
  FakeReply malformed;
  malformed.headers["Content-Type"] = "text/event-stream";
  malformed.chunks = {"data: {\"choices\": [oops\n\n"};
  server_.Push(malformed);
  server_.Push(StreamedReply("openai", "finally", 3, 4));
  auto r = Chat(Api::kOpenAi);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->reply.text, "finally");
  EXPECT_EQ(r->retries, 3) << r->retry_log;
  EXPECT_NE(r->retry_log.find("malformed stream event"), std::string::npos) << r->retry_log;
}

TEST_F(ClientTest, ClientErrorsOversizedRepliesAndExhaustedRetriesAreReported) {
  server_.Push(ErrorReply(401, "authentication_error", "invalid x-api-key"));
  auto r = Chat(Api::kAnthropic);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("HTTP 401"), std::string::npos);
  EXPECT_EQ(r.error().message().find("secret-123"), std::string::npos);  // the key never shows

  FakeReply huge = StreamedReply("openai", std::string(9 << 20, 'x'), 1, 1);
  server_.Push(huge);
  r = Chat(Api::kOpenAi);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("reply larger than"), std::string::npos)
      << r.error().message();

  for (int i = 0; i < 4; ++i) server_.Push(ErrorReply(503, "unavailable", "down"));
  r = Chat(Api::kOpenAi);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error().message().find("gave up after 4 tries"), std::string::npos)
      << r.error().message();

  ::unsetenv("KSWARM_TEST_FAKE_KEY");
  Endpoint keyless_endpoint = MakeEndpoint(Api::kOpenAi);
  keyless_endpoint.key_env = "KSWARM_NO_SUCH_KEY";
  HttpChatClient keyless(keyless_endpoint);
  auto missing = keyless.Chat({"", {{"user", "x"}}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("KSWARM_NO_SUCH_KEY is not set"), std::string::npos);
}

TEST_F(ClientTest, ARefusedConnectionIsRetriedThenReported) {
  Endpoint e = MakeEndpoint(Api::kOpenAi);
  e.base_url = "http://127.0.0.1:1/v1";
  e.max_retries = 1;
  HttpChatClient client(e, RetryPolicy{10, 10}, [this](long ms) { sleeps_.push_back(ms); });
  auto r = client.Chat({"", {{"user", "x"}}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(sleeps_.size(), 1u);
}

}  // namespace
}  // namespace kswarm::llm
