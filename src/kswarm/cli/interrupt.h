// Ctrl-C (SIGINT), SIGTERM and SIGHUP during a long command. While a SignalExit lives they are
// blocked in the thread that made it and in every thread started after, and one thread of its own
// takes them: it calls `on_signal`, then ends the process with status 128 + the signal. Child
// processes die with kswarm (Subprocess gives them a parent-death signal).
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace kswarm::cli {

class SignalExit {
 public:
  // Make it before starting any thread, so that none of them receives the signals itself.
  explicit SignalExit(std::function<void(int signal)> on_signal);
  ~SignalExit();  // stops watching and unblocks the signals
  SignalExit(const SignalExit&) = delete;
  SignalExit& operator=(const SignalExit&) = delete;

 private:
  void Watch();

  std::function<void(int)> on_signal_;
  sigset_t watched_;
  sigset_t previous_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kswarm::cli
