#include "kswarm/evaluator/build_pool.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/executor/slurm.h"
#include "kswarm/util/files.h"
#include "kswarm/util/redact.h"
#include "kswarm/util/subprocess.h"

namespace kswarm::evaluator {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kPollSlice = 200ms;  // how often a running build looks whether the pool stops

BuildOutcome::Kind ParseKind(const std::string& outcome) {
  if (outcome == "built") return BuildOutcome::Kind::kBuilt;
  if (outcome == "compile_error") return BuildOutcome::Kind::kCompileError;
  if (outcome == "skipped") return BuildOutcome::Kind::kSkipped;
  return BuildOutcome::Kind::kFailed;
}

}  // namespace

bool CompilesOnImport(const std::string& source) {
  for (const char* marker : {"load_inline", "cpp_extension", "kswarm_rt"}) {
    if (source.find(marker) != std::string::npos) return true;
  }
  return false;
}

BuildPool::BuildPool(BuildPoolConfig config) : config_(std::move(config)) {
  int jobs = std::max(1, config_.jobs);
  for (int i = 0; i < jobs; ++i) threads_.emplace_back([this] { Work(); });
}

BuildPool::~BuildPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void BuildPool::Submit(const std::string& candidate_path, const std::string& sha256) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !jobs_.emplace(sha256, Entry{candidate_path, false, {}}).second) return;
    queue_.push_back(sha256);
  }
  changed_.notify_all();
}

std::optional<BuildOutcome> BuildPool::Wait(const std::string& sha256) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = jobs_.find(sha256);
  if (it == jobs_.end()) return std::nullopt;
  changed_.wait(lock, [&] { return it->second.done || stopping_; });
  if (!it->second.done) return std::nullopt;
  return it->second.outcome;
}

void BuildPool::WaitAll() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] {
    return stopping_ || std::all_of(jobs_.begin(), jobs_.end(),
                                    [](const auto& kv) { return kv.second.done; });
  });
}

int BuildPool::builds_started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

void BuildPool::Work() {
  for (;;) {
    std::string sha, path;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      sha = queue_.front();
      queue_.pop_front();
      path = jobs_.at(sha).path;
      ++started_;
    }
    BuildOutcome outcome = RunOne(path);
    {
      std::lock_guard<std::mutex> lock(mu_);
      Entry& entry = jobs_.at(sha);
      entry.outcome = std::move(outcome);
      entry.done = true;
    }
    changed_.notify_all();
  }
}

BuildOutcome BuildPool::RunOne(const std::string& path) {
  auto started = Clock::now();
  BuildOutcome out;
  auto finish = [&](BuildOutcome::Kind kind, std::string message) {
    out.kind = kind;
    out.message = Redact(std::move(message));
    out.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return out;
  };
  WorkerConfig worker = config_.worker;
  // No GPU in sight: a build never shares a device with a timing.
  worker.extra_env.push_back("CUDA_VISIBLE_DEVICES=");
  if (!worker.job_name.empty()) worker.job_name += "-b" + Sha256Hex(path).substr(0, 8);
  SpawnOptions options;
  // Contained; only the candidate's own build folder is writable.
  options.argv = Launched(
      worker, Contained(worker, {"--build", path, "--arch", config_.build_arch},
                        {worker.python, "-m", "kswarm_worker.build", "--candidate", path,
                         "--arch", config_.build_arch, "--static-policy",
                         config_.static_policy}));
  options.env = WorkerEnvironment(worker);
  auto proc = Subprocess::Spawn(options);
  if (!proc) return finish(BuildOutcome::Kind::kFailed, proc.error().message());

  auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(config_.timeout_s));
  for (;;) {
    auto line = (*proc)->ReadLine(std::min(deadline, Clock::now() + kPollSlice));
    if (!line) {
      bool late = line.error().code() == StatusCode::kDeadlineExceeded;
      bool stop = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop = stopping_;
      }
      if (late && Clock::now() < deadline && !stop) continue;
      (*proc)->KillGroup();
      if (!worker.job_name.empty()) (void)executor::CancelJob(worker.job_name);
      if (late) {
        return finish(BuildOutcome::Kind::kTimeout,
                      fmt::format("the build took more than {} s and was killed",
                                  config_.timeout_s));
      }
      return finish(BuildOutcome::Kind::kFailed,
                    "the build process died (" + (*proc)->Wait(1000ms).ToString() + ")");
    }
    json reply = json::parse(*line, nullptr, false);
    if (!reply.is_object()) {
      return finish(BuildOutcome::Kind::kFailed, "the build process wrote: " + line->substr(0, 200));
    }
    (*proc)->Wait(2000ms);
    return finish(ParseKind(reply.value("outcome", "")), reply.value("message", ""));
  }
}

}  // namespace kswarm::evaluator
