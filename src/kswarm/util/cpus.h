// Which CPU cores time GPU work. On a host with cores to spare, each GPU's worker gets one core of
// its own for its timed calls (the judge's eager calls and the sandbox's candidate calls take
// turns on it) and everything else kswarm starts — builds, other workers, torch.compile's
// compile processes — runs on the remaining cores, so a launch-bound problem is not timed on a
// core that a compiler is also using. The SMT siblings of a timing core are left idle.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm {

struct CpuPlan {
  int timing_cpu = -1;      // the core this worker's timed calls run on
  std::vector<int> others;  // where everything else of this worker runs
};

// The cores this thread may run on (sched_getaffinity), ascending.
std::vector<int> AllowedCpus();

// A core's SMT siblings (itself included) from /sys; {cpu} when the topology is not readable.
std::vector<int> CpuSiblings(int cpu);

// Parses a kernel CPU list ("0-3,8,10-11"); nullopt for anything malformed.
std::optional<std::vector<int>> ParseCpuList(const std::string& text);

// One plan per worker: timing cores from the highest allowed core down (each with its siblings
// set aside), the rest shared. Empty when the allowed cores are fewer than two per worker plus
// two, or `workers` < 1: then nothing is pinned.
std::vector<CpuPlan> PlanTimingCpus(const std::vector<int>& allowed, int workers,
                                    const std::function<std::vector<int>(int)>& siblings);

// Restricts the calling thread (and what it starts from now on) to `cpus`.
Status RestrictThisThread(const std::vector<int>& cpus);

}  // namespace kswarm
