// A fake LLM server for tests: cpp-httplib on 127.0.0.1, answering POSTs with a script of
// replies in the OpenAI (Chat Completions, Responses) and Anthropic wire formats, streamed as
// server-sent events, with the faults real endpoints show: error statuses with retry-after,
// a stall mid-stream, a stream cut before its end, malformed events, an oversized reply.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kswarm::testing {

struct FakeReply {
  enum class Fault { kNone, kStallMidStream, kCutMidStream };
  int status = 200;
  std::map<std::string, std::string> headers;
  std::vector<std::string> chunks;  // the body, written (and flushed) piece by piece
  Fault fault = Fault::kNone;       // applied after the first chunk
  long stall_ms = 3000;             // kStallMidStream: silence before the rest
};

// A streamed reply carrying `text` in one API's format ("openai", "openai-compatible",
// "openai-responses", "anthropic"), split into a few deltas, with the given token counts.
FakeReply StreamedReply(const std::string& api, const std::string& text, long tokens_in,
                        long tokens_out, bool truncated = false);
// An error reply: `status` with the API's JSON error body and optional retry-after seconds.
FakeReply ErrorReply(int status, const std::string& type, const std::string& message,
                     const std::string& retry_after = "");

struct RecordedRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class FakeLlmServer {
 public:
  // Starts listening on a free port of 127.0.0.1.
  FakeLlmServer();
  ~FakeLlmServer();
  FakeLlmServer(const FakeLlmServer&) = delete;
  FakeLlmServer& operator=(const FakeLlmServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:PORT/v1

  // Replies are served in order, whatever the path; when none is left the server answers 500.
  void Push(FakeReply reply);
  std::vector<RecordedRequest> requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace kswarm::testing
