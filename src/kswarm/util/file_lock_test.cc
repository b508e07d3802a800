#include "kswarm/util/file_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace kswarm {
namespace {

std::string LockPath() {
  return (std::filesystem::path(::testing::TempDir()) /
          ("kswarm_lock_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name()))
      .string();
}

TEST(FileLockTest, ASecondTakerIsRefusedWithTheHoldersText) {
  std::string path = LockPath();
  auto first = FileLock::TryAcquire(path, "run 'a' (pid 1)");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = FileLock::TryAcquire(path, "run 'b' (pid 2)");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.error().message(), "run 'a' (pid 1)");
  EXPECT_TRUE(FileLock::IsHeld(path));
  std::filesystem::remove(path);
}

TEST(FileLockTest, ReleasedWhenTheHolderGoesAway) {
  std::string path = LockPath();
  { auto held = FileLock::TryAcquire(path, "x").value(); }
  EXPECT_TRUE(FileLock::TryAcquire(path, "y").has_value());
  // A holder that dies without unlocking (kill -9) releases it too.
  pid_t child = ::fork();
  if (child == 0) {
    auto held = FileLock::TryAcquire(path, "child");
    ::_exit(held.has_value() ? 0 : 1);  // exits holding it: no destructor runs
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(FileLock::IsHeld(path));
  EXPECT_TRUE(FileLock::TryAcquire(path, "z").has_value());
  std::filesystem::remove(path);
  EXPECT_FALSE(FileLock::IsHeld(path));
}

}  // namespace
}  // namespace kswarm
