// A child process in a process group of its own, spoken to by lines over pipes.
//
// All process handling in kswarm lives in subprocess.cc: fork/exec, the process group, the
// parent-death signal, pipes, a poll loop with deadlines, killing and reaping.
//
// Not thread-safe: one thread drives one Subprocess. The child gets SIGKILL when the thread that
// spawned it exits (PR_SET_PDEATHSIG), so spawn from a thread that outlives the child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm {

using Clock = std::chrono::steady_clock;

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  std::vector<std::string> env;   // complete environment, "NAME=value"
  std::string cwd;                // empty: inherit
  size_t stderr_tail_bytes = 64 * 1024;  // how much of the child's stderr to keep
};

// How a child ended.
struct ExitInfo {
  bool exited = false;  // exited normally, with exit_code
  int exit_code = 0;
  int signal = 0;       // killed by this signal when !exited
  std::string ToString() const;  // "exit code 3", "killed by signal 11 (Segmentation fault)"
};

class Subprocess {
 public:
  static Result<std::unique_ptr<Subprocess>> Spawn(const SpawnOptions& options);

  // Kills the whole process group and reaps the child.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Writes `line` and a newline to the child's stdin. kUnavailable when the child is gone,
  // kDeadlineExceeded when it does not read before `deadline`.
  Status WriteLine(std::string_view line, Clock::time_point deadline);

  // The next line (without its newline) from the child's stdout. Drains stderr into the tail buffer
  // meanwhile. kDeadlineExceeded when no full line arrives before `deadline`; kUnavailable when the
  // child closed stdout (it exited or crashed; see Wait()).
  Result<std::string> ReadLine(Clock::time_point deadline);

  // SIGKILL to the child's whole process group, then reap. Safe to call twice.
  void KillGroup();

  // Waits for the child to exit (after its stdout closed) for at most `grace`; kills the group if it
  // has not. Returns how it ended.
  ExitInfo Wait(std::chrono::milliseconds grace);

  // The last stderr_tail_bytes of what the child wrote to stderr.
  std::string StderrTail();

  pid_t pid() const { return pid_; }

 private:
  Subprocess() = default;
  void DrainStderr();
  void AppendStderr(const char* data, size_t n);
  bool Reap(bool block);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  bool reaped_ = false;
  ExitInfo exit_;
  std::string stdout_buffer_;
  std::string stderr_tail_;
  size_t stderr_tail_bytes_ = 0;
};

}  // namespace kswarm
