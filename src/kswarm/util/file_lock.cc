#include "kswarm/util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace kswarm {

Result<FileLock> FileLock::TryAcquire(const std::string& path, const std::string& holder) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error(StatusCode::kIoError, fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string text(4096, '\0');
    ssize_t n = ::pread(fd, text.data(), text.size(), 0);
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return Error(StatusCode::kIoError, fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    }
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return Error(StatusCode::kUnavailable, text);
  }
  // Best effort: the holder's text only explains a refusal to whoever comes next.
  if (::ftruncate(fd, 0) == 0) {
    ssize_t written = ::pwrite(fd, holder.data(), holder.size(), 0);
    (void)written;
  }
  return FileLock(fd);
}

bool FileLock::IsHeld(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

}  // namespace kswarm
