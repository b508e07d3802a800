#include "kswarm/cli/interrupt.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace kswarm::cli {
namespace {

// In a child process: a SignalExit whose callback writes the signal's number to a pipe, and a
// worker thread started after it, busy until the signal ends the process.
TEST(SignalExitTest, ASignalRunsTheCallbackAndExitsWith128PlusIt) {
  for (int sig : {SIGINT, SIGTERM}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    if (child == 0) {
      ::close(fds[0]);
      SignalExit guard([&](int s) {
        unsigned char b = static_cast<unsigned char>(s);
        if (::write(fds[1], &b, 1) != 1) ::_exit(3);
      });
      std::thread busy([] { std::this_thread::sleep_for(std::chrono::seconds(30)); });
      busy.detach();
      unsigned char ready = 0;
      if (::write(fds[1], &ready, 1) != 1) ::_exit(3);
      std::this_thread::sleep_for(std::chrono::seconds(30));
      ::_exit(0);  // not reached: the signal ends it first
    }
    ::close(fds[1]);
    unsigned char b = 255;
    ASSERT_EQ(::read(fds[0], &b, 1), 1);
    EXPECT_EQ(b, 0);  // the child is ready
    ::kill(child, sig);
    ASSERT_EQ(::read(fds[0], &b, 1), 1);
    EXPECT_EQ(b, sig);  // the callback ran, on the watching thread
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
    ::close(fds[0]);
  }
}

}  // namespace
}  // namespace kswarm::cli
