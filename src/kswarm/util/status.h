// Status and Result<T>: how every fallible call in kswarm reports failure.
//
// A candidate that is wrong, slow, crashes or hangs is *data* (core::Outcome), not a Status error.
// Status errors are for bad user input, I/O failures and internal faults.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace kswarm {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad user input: a missing file, a broken problem, a bad flag
  kNotFound,
  kIoError,
  kDeadlineExceeded,  // a deadline passed
  kUnavailable,       // a peer (the worker) went away
  kInternal,          // a bug or an environment we cannot work in
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
using Result = tl::expected<T, Status>;

inline tl::unexpected<Status> Error(StatusCode code, std::string message) {
  return tl::unexpected<Status>(Status(code, std::move(message)));
}
inline tl::unexpected<Status> Error(Status status) {
  return tl::unexpected<Status>(std::move(status));
}

const char* StatusCodeName(StatusCode code);

}  // namespace kswarm

// Aborts on a programmer error. Never for user input.
#define KSWARM_CHECK(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
