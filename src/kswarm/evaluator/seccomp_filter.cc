#include "kswarm/evaluator/seccomp_filter.h"

#include <seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "kswarm/util/files.h"

namespace kswarm::evaluator {

const std::vector<std::string>& DeniedSyscalls() {
  static const std::vector<std::string> denied = {
      // other processes' memory and the kernel's keyrings
      "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "keyctl", "add_key",
      "request_key",
      // mounts, namespaces and the root
      "mount", "umount2", "pivot_root", "chroot", "setns", "unshare", "open_tree", "move_mount",
      "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "open_by_handle_at",
      "name_to_handle_at",
      // the kernel itself, devices and the clock
      "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
      "swapon", "swapoff", "iopl", "ioperm", "quotactl", "acct", "syslog", "vhangup",
      "lookup_dcookie", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
      "personality", "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
      // a second way around every filter above
      "io_uring_setup", "io_uring_enter", "io_uring_register"};
  return denied;
}

Result<std::string> SeccompBpf() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                        seccomp_release);
  if (!ctx) return Error(StatusCode::kInternal, "seccomp_init failed");
  for (const std::string& name : DeniedSyscalls()) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); rc != 0) {
      return Error(StatusCode::kInternal,
                   fmt::format("seccomp_rule_add({}): {}", name, std::strerror(-rc)));
    }
  }
  // libseccomp writes the program to a descriptor: a temporary file, read back.
  std::FILE* tmp = std::tmpfile();
  if (!tmp) return Error(StatusCode::kIoError, "cannot create a temporary file");
  std::string bpf;
  if (int rc = seccomp_export_bpf(ctx.get(), ::fileno(tmp)); rc != 0) {
    std::fclose(tmp);
    return Error(StatusCode::kInternal, fmt::format("seccomp_export_bpf: {}", std::strerror(-rc)));
  }
  std::rewind(tmp);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) bpf.append(buf, n);
  std::fclose(tmp);
  return bpf;
}

Result<std::string> WriteSeccompBpf(const std::string& dir) {
  auto bpf = SeccompBpf();
  if (!bpf) return bpf;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path path = fs::path(dir) / fmt::format("seccomp-{}.bpf", Sha256Hex(*bpf).substr(0, 16));
  if (fs::exists(path, ec)) return path.string();
  fs::path tmp = path;
  tmp += fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out << *bpf;
    if (!out) return Error(StatusCode::kIoError, fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, path, ec);
  if (ec) return Error(StatusCode::kIoError, fmt::format("cannot write {}", path.string()));
  return path.string();
}

}  // namespace kswarm::evaluator
