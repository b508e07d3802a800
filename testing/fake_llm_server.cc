#include "testing/fake_llm_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace kswarm::testing {
namespace {

using nlohmann::json;

std::string Event(const std::string& name, const json& data) {
  std::string out;
  if (!name.empty()) out += "event: " + name + "\n";
  return out + "data: " + data.dump() + "\n\n";
}

std::vector<std::string> Pieces(const std::string& text) {
  std::vector<std::string> out;
  size_t step = std::max<size_t>(1, text.size() / 3 + 1);
  for (size_t i = 0; i < text.size(); i += step) out.push_back(text.substr(i, step));
  return out;
}

}  // namespace

FakeReply StreamedReply(const std::string& api, const std::string& text, long tokens_in,
                        long tokens_out, bool truncated) {
  FakeReply r;
  r.headers["Content-Type"] = "text/event-stream";
  if (api == "anthropic") {
    r.chunks.push_back(Event("message_start",
                             {{"type", "message_start"},
                              {"message", {{"id", "msg_1"}, {"role", "assistant"},
                                           {"usage", {{"input_tokens", tokens_in},
                                                      {"output_tokens", 1}}}}}}));
    r.chunks.push_back(Event("content_block_start", {{"type", "content_block_start"},
                                                     {"index", 0},
                                                     {"content_block", {{"type", "text"},
                                                                        {"text", ""}}}}));
    r.chunks.push_back(": ping comment\n\n");
    for (const std::string& piece : Pieces(text)) {
      r.chunks.push_back(Event("content_block_delta",
                               {{"type", "content_block_delta"}, {"index", 0},
                                {"delta", {{"type", "text_delta"}, {"text", piece}}}}));
    }
    r.chunks.push_back(Event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
    r.chunks.push_back(Event("message_delta",
                             {{"type", "message_delta"},
                              {"delta", {{"stop_reason", truncated ? "max_tokens" : "end_turn"}}},
                              {"usage", {{"output_tokens", tokens_out}}}}));
    r.chunks.push_back(Event("message_stop", {{"type", "message_stop"}}));
  } else if (api == "openai-responses") {
    for (const std::string& piece : Pieces(text)) {
      r.chunks.push_back(Event("response.output_text.delta",
                               {{"type", "response.output_text.delta"}, {"delta", piece}}));
    }
    std::string type = truncated ? "response.incomplete" : "response.completed";
    r.chunks.push_back(Event(type, {{"type", type},
                                    {"response", {{"status", truncated ? "incomplete" : "completed"},
                                                  {"usage", {{"input_tokens", tokens_in},
                                                             {"output_tokens", tokens_out}}}}}}));
  } else {
    r.chunks.push_back(Event("", {{"choices", {{{"index", 0}, {"delta", {{"role", "assistant"},
                                                                        {"content", ""}}}}}}}));
    for (const std::string& piece : Pieces(text)) {
      r.chunks.push_back(Event("", {{"choices", {{{"index", 0},
                                                  {"delta", {{"content", piece}}}}}}}));
    }
    r.chunks.push_back(Event("", {{"choices", {{{"index", 0}, {"delta", json::object()},
                                                {"finish_reason", truncated ? "length" : "stop"}}}}}));
    r.chunks.push_back(Event("", {{"choices", json::array()},
                                  {"usage", {{"prompt_tokens", tokens_in},
                                             {"completion_tokens", tokens_out}}}}));
    r.chunks.push_back("data: [DONE]\n\n");
  }
  return r;
}

FakeReply ErrorReply(int status, const std::string& type, const std::string& message,
                     const std::string& retry_after) {
  FakeReply r;
  r.status = status;
  r.headers["Content-Type"] = "application/json";
  if (!retry_after.empty()) r.headers["retry-after"] = retry_after;
  r.chunks.push_back(json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump());
  return r;
}

struct FakeLlmServer::Impl {
  httplib::Server server;
  std::thread thread;
  mutable std::mutex mu;
  std::deque<FakeReply> script;
  std::vector<RecordedRequest> requests;
  std::atomic<bool> stopping{false};
};

FakeLlmServer::FakeLlmServer() : impl_(std::make_unique<Impl>()) {
  Impl* impl = impl_.get();
  impl->server.Post(R"(/.*)", [impl](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded{req.path, {}, req.body};
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      recorded.headers[lower] = value;
    }
    FakeReply reply;
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->requests.push_back(std::move(recorded));
      if (impl->script.empty()) {
        reply = ErrorReply(500, "script_exhausted", "the fake server has no more replies");
      } else {
        reply = std::move(impl->script.front());
        impl->script.pop_front();
      }
    }
    res.status = reply.status;
    std::string content_type = "application/json";
    for (const auto& [name, value] : reply.headers) {
      if (name == "Content-Type") {
        content_type = value;
      } else {
        res.set_header(name, value);
      }
    }
    auto shared = std::make_shared<FakeReply>(std::move(reply));
    res.set_chunked_content_provider(
        content_type, [shared, impl, next = size_t{0}](size_t, httplib::DataSink& sink) mutable {
          if (next >= shared->chunks.size()) {
            sink.done();
            return true;
          }
          const std::string& chunk = shared->chunks[next++];
          if (!sink.write(chunk.data(), chunk.size())) return false;
          if (next == 1 && shared->fault == FakeReply::Fault::kCutMidStream) return false;
          if (next == 1 && shared->fault == FakeReply::Fault::kStallMidStream) {
            for (long waited = 0; waited < shared->stall_ms && !impl->stopping; waited += 20) {
              std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
          }
          return true;
        });
  });
  port_ = impl->server.bind_to_any_port("127.0.0.1");
  impl->thread = std::thread([impl] { impl->server.listen_after_bind(); });
  while (!impl->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeLlmServer::~FakeLlmServer() {
  impl_->stopping = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string FakeLlmServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

void FakeLlmServer::Push(FakeReply reply) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->script.push_back(std::move(reply));
}

std::vector<RecordedRequest> FakeLlmServer::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

}  // namespace kswarm::testing
