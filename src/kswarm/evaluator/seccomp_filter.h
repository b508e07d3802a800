// The seccomp filter of every process that runs candidate code (docs/containment.md): the system
// calls that reach outside the process's own jail (other processes' memory, the kernel's
// keyrings, mounts, modules, the clock, io_uring) fail with EPERM; the rest are allowed.
#pragma once

#include <string>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm::evaluator {

// The denied system calls, by name.
const std::vector<std::string>& DeniedSyscalls();

// The filter as a classic BPF program for this machine's architecture (bwrap --seccomp).
Result<std::string> SeccompBpf();

// Writes the program to `dir`/seccomp-<hash>.bpf once (content-addressed) and returns the path.
Result<std::string> WriteSeccompBpf(const std::string& dir);

}  // namespace kswarm::evaluator
