#include "kswarm/evaluator/seccomp_filter.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace kswarm::evaluator {
namespace {

// In a child: loads the program as bwrap would, then tries a denied and an allowed call.
TEST(SeccompFilterTest, DeniedCallsFailWithEpermAndOthersWork) {
  auto bpf = SeccompBpf();
  ASSERT_TRUE(bpf.has_value()) << bpf.error().ToString();
  ASSERT_EQ(bpf->size() % sizeof(sock_filter), 0u);
  pid_t child = ::fork();
  if (child == 0) {
    sock_fprog prog{static_cast<unsigned short>(bpf->size() / sizeof(sock_filter)),
                    reinterpret_cast<sock_filter*>(bpf->data())};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(10);
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) ::_exit(11);
    errno = 0;
    long traced = ::ptrace(PTRACE_PEEKDATA, ::getppid(), nullptr, nullptr);
    if (traced != -1 || errno != EPERM) ::_exit(12);
    if (::syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM) ::_exit(13);
    if (::getpid() <= 0) ::_exit(14);  // an allowed call still works
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompFilterTest, WrittenOnceUnderItsHash) {
  std::string dir = (std::filesystem::path(::testing::TempDir()) /
                     ("kswarm_seccomp_" + std::to_string(::getpid())))
                        .string();
  auto first = WriteSeccompBpf(dir);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = WriteSeccompBpf(dir);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(std::filesystem::file_size(*first), SeccompBpf()->size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kswarm::evaluator
