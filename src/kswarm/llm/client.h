// A chat with one model endpoint: the streamed HTTP call, retries and the per-provider cap on
// requests in flight. ChatClient is an interface only so agent tests can swap in a scripted one.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "kswarm/llm/provider.h"
#include "kswarm/util/status.h"

namespace kswarm::llm {

struct ChatResult {
  ChatReply reply;
  double latency_ms = 0;  // the successful call, first byte sent to last byte read
  int retries = 0;        // calls that failed before it
  std::string retry_log;  // why each retry happened, one line each
};

class ChatClient {
 public:
  virtual ~ChatClient() = default;
  virtual Result<ChatResult> Chat(const ChatRequest& request) = 0;
};

// How long to wait before retry number `retry` (0-based): the server's retry-after when it
// gave one, else exponential backoff from base_delay_ms with full jitter, capped at max_delay_ms.
struct RetryPolicy {
  long base_delay_ms = 1000;
  long max_delay_ms = 60'000;
};

// Sleeps for the given milliseconds (tests pass one that records instead).
using SleepFn = std::function<void(long ms)>;

class HttpChatClient : public ChatClient {
 public:
  // The key is read from the environment variable endpoint.key_env at each call and is never
  // logged or stored. `cancel`, when given, stops waiting and in-flight calls.
  HttpChatClient(Endpoint endpoint, RetryPolicy policy = {}, SleepFn sleep = nullptr,
                 const std::atomic<bool>* cancel = nullptr);

  // Retries on HTTP 408, 409, 429, 5xx (Anthropic's 529 included), dropped or cut streams,
  // stalls, error events and malformed events, up to endpoint.max_retries; other 4xx, a
  // missing key and an oversized reply fail at once. kUnavailable when the retries ran out,
  // kInvalidArgument for a missing key or a 4xx (a configuration the user must fix).
  Result<ChatResult> Chat(const ChatRequest& request) override;

 private:
  Endpoint endpoint_;
  RetryPolicy policy_;
  SleepFn sleep_;
  const std::atomic<bool>* cancel_;
};

// The delay a retry-after header asks for, in ms ("retry-after-ms", or "retry-after" in seconds);
// nullopt when absent or not a number.
std::optional<long> RetryAfterMs(const std::map<std::string, std::string>& headers);

}  // namespace kswarm::llm
