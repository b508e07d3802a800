#include "kswarm/util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace kswarm {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Resolves argv[0] on PATH before fork(), so the child only calls async-signal-safe functions.
Result<std::string> ResolveProgram(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return Error(StatusCode::kNotFound, fmt::format("{}: not found on PATH", program));
}

int MillisUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), 1000 * 60 * 60));
}

}  // namespace

std::string ExitInfo::ToString() const {
  if (exited) return fmt::format("exit code {}", exit_code);
  return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
}

Result<std::unique_ptr<Subprocess>> Subprocess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Error(StatusCode::kInternal, "Spawn: empty argv");
  // A write to a child that died must fail with EPIPE, not kill kswarm.
  static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  auto program = ResolveProgram(options.argv[0], options.env);
  if (!program) return Error(program.error());

  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return Error(StatusCode::kInternal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Error(StatusCode::kInternal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  sigset_t no_signals;  // the child starts with no signal blocked, whatever this thread blocks
  sigemptyset(&no_signals);

  pid_t pid = ::fork();
  if (pid < 0) {
    return Error(StatusCode::kInternal, fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::signal(SIGPIPE, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (cwd && ::chdir(cwd) != 0) ::_exit(126);
    ::execve(program->c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  // Parent. Also set the group here, so a kill right after Spawn reaches it.
  ::setpgid(pid, pid);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  auto proc = std::unique_ptr<Subprocess>(new Subprocess());
  proc->pid_ = pid;
  proc->stdin_fd_ = in_pipe[1];
  proc->stdout_fd_ = out_pipe[0];
  proc->stderr_fd_ = err_pipe[0];
  proc->stderr_tail_bytes_ = options.stderr_tail_bytes;
  for (int fd : {proc->stdin_fd_, proc->stdout_fd_, proc->stderr_fd_}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return proc;
}

Subprocess::~Subprocess() {
  KillGroup();
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
}

void Subprocess::AppendStderr(const char* data, size_t n) {
  stderr_tail_.append(data, n);
  if (stderr_tail_.size() > stderr_tail_bytes_) {
    stderr_tail_.erase(0, stderr_tail_.size() - stderr_tail_bytes_);
  }
}

void Subprocess::DrainStderr() {
  char buf[8192];
  while (stderr_fd_ >= 0) {
    ssize_t n = ::read(stderr_fd_, buf, sizeof buf);
    if (n > 0) {
      AppendStderr(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      CloseFd(stderr_fd_);
    } else {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) CloseFd(stderr_fd_);
      return;
    }
  }
}

Status Subprocess::WriteLine(std::string_view line, Clock::time_point deadline) {
  std::string data(line);
  data += '\n';
  size_t written = 0;
  while (written < data.size()) {
    if (stdin_fd_ < 0) return Status(StatusCode::kUnavailable, "worker's stdin is closed");
    ssize_t n = ::write(stdin_fd_, data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) return Status(StatusCode::kUnavailable, "worker exited");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status(StatusCode::kIoError, fmt::format("write: {}", std::strerror(errno)));
    }
    pollfd pfd{stdin_fd_, POLLOUT, 0};
    int timeout = MillisUntil(deadline);
    if (timeout == 0) return Status(StatusCode::kDeadlineExceeded, "worker does not read");
    ::poll(&pfd, 1, timeout);
  }
  return Status::Ok();
}

Result<std::string> Subprocess::ReadLine(Clock::time_point deadline) {
  for (;;) {
    size_t newline = stdout_buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = stdout_buffer_.substr(0, newline);
      stdout_buffer_.erase(0, newline + 1);
      return line;
    }
    if (stdout_fd_ < 0) return Error(StatusCode::kUnavailable, "worker closed its output");

    pollfd pfds[2] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
    int nfds = stderr_fd_ >= 0 ? 2 : 1;
    int timeout = MillisUntil(deadline);
    if (timeout == 0) return Error(StatusCode::kDeadlineExceeded, "deadline passed");
    int ready = ::poll(pfds, nfds, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Error(StatusCode::kInternal, fmt::format("poll: {}", std::strerror(errno)));
    }
    if (nfds == 2 && pfds[1].revents) DrainStderr();
    if (pfds[0].revents) {
      char buf[65536];
      ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n > 0) {
        stdout_buffer_.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        CloseFd(stdout_fd_);
      } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        CloseFd(stdout_fd_);
      }
    }
  }
}

bool Subprocess::Reap(bool block) {
  if (reaped_ || pid_ <= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  reaped_ = true;
  if (r < 0) return true;  // already reaped elsewhere; nothing to learn
  if (WIFEXITED(status)) {
    exit_.exited = true;
    exit_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_.signal = WTERMSIG(status);
  }
  return true;
}

void Subprocess::KillGroup() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // the group: the worker and the compilers it started
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
}

ExitInfo Subprocess::Wait(std::chrono::milliseconds grace) {
  auto deadline = Clock::now() + grace;
  while (!Reap(/*block=*/false) && Clock::now() < deadline) {
    DrainStderr();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  KillGroup();
  DrainStderr();
  return exit_;
}

std::string Subprocess::StderrTail() {
  DrainStderr();
  return stderr_tail_;
}

}  // namespace kswarm
