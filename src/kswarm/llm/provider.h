// The wire formats of the LLM APIs kswarm speaks: how a chat becomes an HTTP request, and how the
// streamed reply (server-sent events) becomes text and token counts. Pure functions and a
// decoder, no I/O, so every format is tested against recorded events.
//
//   api                 endpoint                  streamed events
//   openai              {base}/chat/completions   data: chunk objects ... data: [DONE]
//   openai-compatible   same, "max_tokens" instead of "max_completion_tokens" (DeepSeek, vLLM,
//                       llama.cpp's server, Ollama)
//   openai-responses    {base}/responses          response.output_text.delta ... response.completed
//   anthropic           {base}/messages           message_start ... content_block_delta ... message_stop
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/llm/http.h"
#include "kswarm/llm/sse.h"
#include "kswarm/util/status.h"

namespace kswarm::llm {

enum class Api { kOpenAi, kOpenAiCompatible, kOpenAiResponses, kAnthropic };

// "openai", "openai-compatible", "openai-responses", "anthropic"; nullopt for anything else.
std::optional<Api> ParseApi(const std::string& name);
const char* ApiName(Api api);
// The public endpoint of an API's vendor, used when the config gives no base_url.
std::string DefaultBaseUrl(Api api);

// One model endpoint, as the config's [[models]] table describes it (docs/config.md).
struct Endpoint {
  std::string name;      // the agent's name in reports: "gpt-5", "claude-sonnet", "local-qwen"
  Api api = Api::kOpenAi;
  std::string base_url;  // e.g. https://api.openai.com/v1; empty: DefaultBaseUrl(api)
  std::string model;     // the model id the API expects
  std::string key_env;   // the environment variable holding the key; empty: no key (local)
  int max_output_tokens = 16384;
  std::string reasoning_effort;  // "", or "low"/"medium"/"high" (OpenAI effort, Anthropic budget)
  double usd_per_mtok_in = 0;
  double usd_per_mtok_out = 0;
  int concurrency = 4;        // requests in flight to this base_url at once
  int max_retries = 5;
  long stall_timeout_ms = 120'000;
};

struct Message {
  std::string role;  // "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::string system;
  std::vector<Message> messages;
};

struct ChatReply {
  std::string text;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  bool truncated = false;  // the model hit max_output_tokens
  std::string stop_reason;
};

// The HTTP request for `chat` (streaming). `key` goes in the API's auth header when non-empty.
HttpRequest BuildHttpRequest(const Endpoint& endpoint, const ChatRequest& chat,
                             const std::string& key);

// Turns one API's stream of events into a reply. OnEvent fails (kUnavailable) on an error event
// (Anthropic's overloaded_error, OpenAI's error object) or data that is not the JSON the API
// sends; the caller may retry.
class StreamDecoder {
 public:
  explicit StreamDecoder(Api api) : api_(api) {}
  Status OnEvent(const SseEvent& event);
  // True once the API's end-of-stream marker arrived.
  bool done() const { return done_; }
  const ChatReply& reply() const { return reply_; }

 private:
  Api api_;
  bool done_ = false;
  ChatReply reply_;
};

// The error message an API put in a non-2xx body ({"error": {"message": ...}}), else the body's
// first 300 bytes.
std::string ApiErrorMessage(const std::string& body);

}  // namespace kswarm::llm
