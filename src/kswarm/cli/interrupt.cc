#include "kswarm/cli/interrupt.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

namespace kswarm::cli {

SignalExit::SignalExit(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  sigemptyset(&watched_);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&watched_, sig);
  pthread_sigmask(SIG_BLOCK, &watched_, &previous_);
  thread_ = std::thread([this] { Watch(); });
}

SignalExit::~SignalExit() {
  stop_ = true;
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

void SignalExit::Watch() {
  const timespec slice{0, 200 * 1000 * 1000};  // how often it looks whether to stop
  while (!stop_) {
    int sig = sigtimedwait(&watched_, nullptr, &slice);
    if (sig < 0) continue;  // EAGAIN (the slice ended) or EINTR
    if (on_signal_) on_signal_(sig);
    std::fflush(stderr);
    std::fflush(stdout);
    ::_exit(128 + sig);
  }
}

}  // namespace kswarm::cli
