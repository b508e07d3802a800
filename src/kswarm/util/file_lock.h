// An advisory lock on a file (flock(2)). The kernel releases it when its holder exits, however it
// exits, so a killed holder never leaves a stale lock behind.
#pragma once

#include <string>

#include "kswarm/util/status.h"

namespace kswarm {

class FileLock {
 public:
  // Takes the lock on `path` (creating the file) without waiting, and writes `holder` into the
  // file for whoever finds it taken. kUnavailable, with the holder's text as the message, when
  // another open file description holds it; kIoError when the file cannot be opened.
  static Result<FileLock> TryAcquire(const std::string& path, const std::string& holder);
  // Whether some process holds the lock on `path` now (false when there is no such file).
  static bool IsHeld(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();  // releases the lock

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace kswarm
