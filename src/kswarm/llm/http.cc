#include "kswarm/llm/http.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <chrono>
#include <mutex>
#include <optional>

#include <curl/curl.h>
#include <fmt/format.h>

namespace kswarm::llm {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct CallState {
  CURL* curl = nullptr;
  const HttpRequest* request = nullptr;
  const OnData* on_data = nullptr;
  HttpResponse* response = nullptr;
  bool too_big = false;
  bool stopped = false;
  bool stalled = false;
  // When the last body byte arrived; unset until the first (a model may think a long time before
  // it writes anything: the total timeout covers that wait).
  std::optional<std::chrono::steady_clock::time_point> last_byte;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<CallState*>(user);
  size_t n = size * count;
  if (s->response->body.size() + n > s->request->max_response_bytes) {
    s->too_big = true;
    return 0;  // makes curl fail the transfer
  }
  s->response->body.append(data, n);
  s->last_byte = std::chrono::steady_clock::now();
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (*s->on_data && !(*s->on_data)(status, std::string_view(data, n))) {
    s->stopped = true;
    return 0;
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<CallState*>(user);
  std::string_view line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
      value.remove_prefix(1);
    }
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
      value.remove_suffix(1);
    }
    s->response->headers[name] = std::string(value);
  } else if (line.rfind("HTTP/", 0) == 0) {
    s->response->headers.clear();  // a new response (after a 100 Continue)
  }
  return size * count;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* s = static_cast<CallState*>(user);
  if (s->request->cancel && s->request->cancel->load()) return 1;
  if (s->last_byte && std::chrono::steady_clock::now() - *s->last_byte >
                          std::chrono::milliseconds(s->request->stall_timeout_ms)) {
    s->stalled = true;
    return 1;
  }
  return 0;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<HttpResponse> HttpPost(const HttpRequest& request, const OnData& on_data) {
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error(StatusCode::kInternal, "curl_easy_init failed");
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const std::string& h : request.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (!next) return Error(StatusCode::kInternal, "curl_slist_append failed");
    headers.release();
    headers.reset(next);
  }
  HttpResponse response;
  CURL* c = curl.get();
  CallState state{c, &request, &on_data, &response};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.total_timeout_ms);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode

  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc == CURLE_OK) return response;
  if (state.too_big) {
    return Error(StatusCode::kUnavailable,
                 fmt::format("reply larger than {} bytes", request.max_response_bytes));
  }
  if (state.stopped) return Error(StatusCode::kUnavailable, "stopped by the reader");
  if (state.stalled) {
    return Error(StatusCode::kUnavailable,
                 fmt::format("the reply stalled: no byte for {} ms", request.stall_timeout_ms));
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Error(StatusCode::kInternal, "cancelled");
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Error(StatusCode::kUnavailable,
                 fmt::format("no complete reply within {} ms", request.total_timeout_ms));
  }
  return Error(StatusCode::kUnavailable,
               fmt::format("{} (HTTP {})", curl_easy_strerror(rc), response.status));
}

}  // namespace kswarm::llm
