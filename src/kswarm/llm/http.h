// HTTP POST over libcurl, the one place that library is used: TLS, redirects refused, a connect
// timeout, a stall timeout (no byte for `stall_timeout_ms` once the body has begun ends the call;
// the wait for the first byte is bounded by the total timeout only, as a model may think for
// minutes before it writes), a cap on the reply's size, and cancellation. The body is handed to `on_data` as it arrives, so streamed replies are
// parsed while the server is still writing. Thread-safe: each call owns its curl handle.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm::llm {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  long connect_timeout_ms = 10'000;
  long stall_timeout_ms = 60'000;
  long total_timeout_ms = 900'000;
  size_t max_response_bytes = 8 << 20;
  const std::atomic<bool>* cancel = nullptr;  // set to true from another thread to stop
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;  // the whole body (also when on_data consumed it)
};

// Called with the reply's HTTP status and each piece of the body; return false to stop reading
// (the call then fails with kUnavailable "stopped by the reader").
using OnData = std::function<bool(long status, std::string_view bytes)>;

// Posts `request`. A reply of any HTTP status is a value; kUnavailable when no complete reply
// came (connection refused or dropped, a stall or the total timeout, the size cap: "reply larger
// than N bytes"), kInternal "cancelled". Error messages never contain the request's headers.
Result<HttpResponse> HttpPost(const HttpRequest& request, const OnData& on_data = nullptr);

}  // namespace kswarm::llm
