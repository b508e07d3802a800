#include "kswarm/llm/client.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "kswarm/llm/sse.h"

namespace kswarm::llm {
namespace {

// Requests in flight per base URL, shared by every client of this process.
class Gate {
 public:
  static Gate& For(const std::string& base_url, int limit) {
    static std::mutex mu;
    static std::map<std::string, std::unique_ptr<Gate>> gates;
    std::lock_guard<std::mutex> lock(mu);
    auto& gate = gates[base_url];
    if (!gate) gate = std::make_unique<Gate>(std::max(1, limit));
    return *gate;
  }
  explicit Gate(int limit) : free_(limit) {}
  void Enter() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void Leave() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Retryable(long status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

}  // namespace

std::optional<long> RetryAfterMs(const std::map<std::string, std::string>& headers) {
  auto parse = [](const std::string& s) -> std::optional<double> {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || v < 0) return std::nullopt;
    return v;
  };
  if (auto it = headers.find("retry-after-ms"); it != headers.end()) {
    if (auto v = parse(it->second)) return static_cast<long>(*v);
  }
  if (auto it = headers.find("retry-after"); it != headers.end()) {
    if (auto v = parse(it->second)) return static_cast<long>(*v * 1000);
  }
  return std::nullopt;
}

HttpChatClient::HttpChatClient(Endpoint endpoint, RetryPolicy policy, SleepFn sleep,
                               const std::atomic<bool>* cancel)
    : endpoint_(std::move(endpoint)), policy_(policy), sleep_(std::move(sleep)), cancel_(cancel) {
  if (!sleep_) {
    sleep_ = [](long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
}

Result<ChatResult> HttpChatClient::Chat(const ChatRequest& request) {
  std::string key;
  if (!endpoint_.key_env.empty()) {
    const char* value = std::getenv(endpoint_.key_env.c_str());
    if (!value || !*value) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("model '{}': environment variable {} is not set", endpoint_.name,
                               endpoint_.key_env));
    }
    key = value;
  }
  HttpRequest http = BuildHttpRequest(endpoint_, request, key);
  http.cancel = cancel_;
  std::string base = endpoint_.base_url.empty() ? DefaultBaseUrl(endpoint_.api)
                                                : endpoint_.base_url;
  Gate& gate = Gate::For(base, endpoint_.concurrency);
  thread_local std::mt19937_64 rng(std::random_device{}());

  ChatResult result;
  for (int attempt = 0;; ++attempt) {
    if (cancel_ && cancel_->load()) return Error(StatusCode::kInternal, "cancelled");
    SseParser parser;
    StreamDecoder decoder(endpoint_.api);
    Status stream_error = Status::Ok();
    double started = NowMs();
    gate.Enter();
    auto response = HttpPost(http, [&](long status, std::string_view bytes) {
      // Only a 2xx body is a stream; an error body is read whole and reported below.
      if (status < 200 || status >= 300) return true;
      for (const SseEvent& e : parser.Feed(bytes)) {
        if (Status s = decoder.OnEvent(e); !s.ok()) {
          stream_error = s;
          return false;
        }
      }
      return true;
    });
    gate.Leave();

    std::string why;
    std::optional<long> wait_ms;
    if (!response) {
      if (response.error().message() == "cancelled") return Error(response.error());
      if (!stream_error.ok()) {
        why = stream_error.message();
      } else if (response.error().message().rfind("reply larger than", 0) == 0) {
        return Error(StatusCode::kUnavailable,
                     fmt::format("model '{}': {}", endpoint_.name, response.error().message()));
      } else {
        why = response.error().message();
      }
    } else if (response->status < 200 || response->status >= 300) {
      std::string message = ApiErrorMessage(response->body);
      if (!Retryable(response->status)) {
        return Error(StatusCode::kInvalidArgument,
                     fmt::format("model '{}': HTTP {}: {}", endpoint_.name, response->status,
                                 message));
      }
      why = fmt::format("HTTP {}: {}", response->status, message);
      wait_ms = RetryAfterMs(response->headers);
    } else if (!decoder.done()) {
      why = "the stream ended before its end marker";
    } else {
      result.reply = decoder.reply();
      result.latency_ms = NowMs() - started;
      return result;
    }

    if (attempt >= endpoint_.max_retries) {
      return Error(StatusCode::kUnavailable,
                   fmt::format("model '{}': gave up after {} tries: {}", endpoint_.name,
                               attempt + 1, why));
    }
    if (!wait_ms) {
      long cap = std::min(policy_.max_delay_ms, policy_.base_delay_ms << std::min(attempt, 20));
      wait_ms = std::uniform_int_distribution<long>(0, std::max(0L, cap))(rng);
    }
    wait_ms = std::min(*wait_ms, policy_.max_delay_ms);
    ++result.retries;
    result.retry_log += fmt::format("retry {} after {} ms: {}\n", result.retries, *wait_ms, why);
    sleep_(*wait_ms);
  }
}

}  // namespace kswarm::llm
