// The build pool: compiles candidates' custom code (C++/CUDA extensions, kswarm_rt kernels) ahead of
// their evaluation, several at once on the CPU cores, each in a process of its own that sees no GPU
// (python3 -m kswarm_worker.build; docs/worker_protocol.md, "Building ahead"). A build fills the
// content-addressed build cache, so the evaluation loads the candidate without compiling; a GPU
// never waits for a compiler and timing never shares a GPU with one.
//
// Builds are keyed by the candidate's content: submitting the same source twice builds it once.
// Thread-safe. The destructor abandons queued builds and kills running ones.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kswarm/evaluator/evaluator.h"

namespace kswarm::evaluator {

// Whether a candidate compiles anything when imported: it uses torch's extension builder
// (load_inline, cpp_extension) or kswarm_rt. The pool skips the rest, for which a build process
// would only import torch (a candidate it misses builds in its evaluation, as without a pool).
bool CompilesOnImport(const std::string& source);

struct BuildOutcome {
  enum class Kind {
    kBuilt,         // imported; whatever it compiles is in the cache
    kCompileError,  // its custom code does not compile: a verdict, `message` says why
    kSkipped,       // the static check rejects it: never imported here
    kFailed,        // the import failed otherwise (it may need a GPU): the evaluation decides
    kTimeout,       // the build ran past its deadline and was killed
  };
  Kind kind = Kind::kFailed;
  std::string message;
  double wall_ms = 0;
};

struct BuildPoolConfig {
  WorkerConfig worker;              // python, worker_dir and extra environment, as for the worker
  std::string build_arch;           // the worker's hello: "sm_90", "cpu-x86_64"
  int jobs = 1;                     // builds at once
  double timeout_s = 300;           // per build
  std::string static_policy = "reject";
};

class BuildPool {
 public:
  explicit BuildPool(BuildPoolConfig config);
  ~BuildPool();
  BuildPool(const BuildPool&) = delete;
  BuildPool& operator=(const BuildPool&) = delete;

  // Queues a build of the candidate file whose content hashes to `sha256`, unless that content
  // was submitted before. Returns at once.
  void Submit(const std::string& candidate_path, const std::string& sha256);

  // Blocks until the build of `sha256` is done; nullopt when it was never submitted.
  std::optional<BuildOutcome> Wait(const std::string& sha256);

  // Blocks until every submitted build is done.
  void WaitAll();

  // Build processes started so far (for tests and the benchmark).
  int builds_started() const;

 private:
  struct Entry {
    std::string path;
    bool done = false;
    BuildOutcome outcome;
  };
  void Work();
  BuildOutcome RunOne(const std::string& path);

  BuildPoolConfig config_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;      // sha256s waiting for a free slot
  std::map<std::string, Entry> jobs_;  // by sha256
  int started_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kswarm::evaluator
