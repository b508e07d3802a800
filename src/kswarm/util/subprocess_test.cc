#include "kswarm/util/subprocess.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace kswarm {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Subprocess> Shell(const std::string& script) {
  SpawnOptions options;
  options.argv = {"sh", "-c", script};
  options.env = {"PATH=/usr/bin:/bin"};
  auto proc = Subprocess::Spawn(options);
  EXPECT_TRUE(proc.has_value()) << proc.error().ToString();
  return std::move(*proc);
}

// Dead or a zombie (waiting for a reaper that may not exist in a container).
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || text.substr(paren + 2, 1) == "Z";
}

TEST(SubprocessTest, EchoesLinesBothWays) {
  auto proc = Shell("while read line; do echo \"got $line\"; done");
  ASSERT_TRUE(proc->WriteLine("one", Clock::now() + 5s).ok());
  ASSERT_TRUE(proc->WriteLine("two", Clock::now() + 5s).ok());
  EXPECT_EQ(proc->ReadLine(Clock::now() + 5s).value(), "got one");
  EXPECT_EQ(proc->ReadLine(Clock::now() + 5s).value(), "got two");
}

TEST(SubprocessTest, ReadLineHonoursDeadline) {
  auto proc = Shell("sleep 30");
  auto start = Clock::now();
  auto line = proc->ReadLine(Clock::now() + 200ms);
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(SubprocessTest, ReportsCrashAndKeepsStderrTail) {
  auto proc = Shell("echo 'about to crash' >&2; kill -SEGV $$");
  auto line = proc->ReadLine(Clock::now() + 5s);
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().code(), StatusCode::kUnavailable);
  ExitInfo info = proc->Wait(2s);
  EXPECT_FALSE(info.exited);
  EXPECT_EQ(info.signal, SIGSEGV);
  EXPECT_NE(proc->StderrTail().find("about to crash"), std::string::npos);
}

TEST(SubprocessTest, KillGroupKillsGrandchildren) {
  // The shell starts a grandchild in the same group and reports its pid.
  auto proc = Shell("sleep 60 & echo $!; wait");
  auto line = proc->ReadLine(Clock::now() + 5s);
  ASSERT_TRUE(line.has_value());
  pid_t grandchild = std::stoi(*line);
  ASSERT_FALSE(ProcessGone(grandchild));
  proc->KillGroup();
  // The grandchild is reparented and reaped by init; give it a moment to disappear.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ProcessGone(grandchild);
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone);
}

TEST(SubprocessTest, WriteToExitedChildFailsCleanly) {
  auto proc = Shell("exit 3");
  EXPECT_FALSE(proc->ReadLine(Clock::now() + 5s).has_value());
  ExitInfo info = proc->Wait(2s);
  EXPECT_TRUE(info.exited);
  EXPECT_EQ(info.exit_code, 3);
  Status s = proc->WriteLine("hello", Clock::now() + 1s);
  EXPECT_FALSE(s.ok());
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  SpawnOptions options;
  options.argv = {"kswarm-no-such-program"};
  options.env = {"PATH=/usr/bin:/bin"};
  auto proc = Subprocess::Spawn(options);
  ASSERT_FALSE(proc.has_value());
  EXPECT_EQ(proc.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kswarm
