#include "kswarm/util/cpus.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace kswarm {

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  return cpus;
}

std::optional<std::vector<int>> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
    if (item.empty()) continue;
    size_t dash = item.find('-');
    try {
      size_t used = 0;
      int lo = std::stoi(item.substr(0, dash), &used);
      if (used != (dash == std::string::npos ? item.size() : dash)) return std::nullopt;
      int hi = lo;
      if (dash != std::string::npos) {
        std::string rest = item.substr(dash + 1);
        hi = std::stoi(rest, &used);
        if (used != rest.size()) return std::nullopt;
      }
      if (lo < 0 || hi < lo || hi >= CPU_SETSIZE) return std::nullopt;
      for (int c = lo; c <= hi; ++c) cpus.push_back(c);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::vector<int> CpuSiblings(int cpu) {
  std::ifstream in(fmt::format("/sys/devices/system/cpu/cpu{}/topology/thread_siblings_list", cpu));
  std::string line;
  if (in && std::getline(in, line)) {
    if (auto list = ParseCpuList(line); list && !list->empty()) return *list;
  }
  return {cpu};
}

std::vector<CpuPlan> PlanTimingCpus(const std::vector<int>& allowed, int workers,
                                    const std::function<std::vector<int>(int)>& siblings) {
  if (workers < 1 || static_cast<int>(allowed.size()) < 2 * workers + 2) return {};
  std::set<int> free(allowed.begin(), allowed.end());
  std::vector<int> timing;
  for (auto it = allowed.rbegin(); it != allowed.rend() && static_cast<int>(timing.size()) < workers;
       ++it) {
    if (!free.count(*it)) continue;  // a sibling of a timing core already taken
    timing.push_back(*it);
    for (int s : siblings(*it)) free.erase(s);
    free.erase(*it);
  }
  // Enough left for the builds and the workers' other threads: else pin nothing.
  if (static_cast<int>(timing.size()) < workers || static_cast<int>(free.size()) < workers + 2) {
    return {};
  }
  std::vector<CpuPlan> plans;
  for (int cpu : timing) plans.push_back(CpuPlan{cpu, std::vector<int>(free.begin(), free.end())});
  return plans;
}

Status RestrictThisThread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return Status(StatusCode::kInternal, fmt::format("sched_setaffinity: {}", std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace kswarm
