// The embedded database: runs, problems, candidates, evaluations (docs/schema.md).
//
// Thread-safety: one Store per thread. SQLite in WAL mode lets several processes share the file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kswarm/core/evaluation.h"
#include "kswarm/util/status.h"

namespace SQLite {
class Database;
}

namespace kswarm::store {

struct ProblemRecord {
  std::string name;
  std::string path;
  std::optional<int> level;
  std::string source;
  std::string source_sha256;
};

struct CandidateRecord {
  int64_t problem_id = 0;
  std::string source;
  std::string sha256;
  std::string generator;
  std::string path;
};

// An evaluation as kept: the verdict plus what it was asked and where it ran.
struct EvaluationRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t problem_id = 0;
  int64_t candidate_id = 0;
  core::EvalSettings settings;
  core::Environment environment;
  core::Evaluation evaluation;
  std::string cache_key;
  std::string created_at;
};

class Store {
 public:
  // Opens (creating or migrating) the database at `path`. kInvalidArgument when the file is not a
  // kswarm database or has a newer schema; kIoError when it cannot be opened.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();

  Result<int64_t> CreateRun(const std::string& name, const std::string& command);
  Status FinishRun(int64_t run_id, const std::string& status);

  // Returns the id of the existing row for (sha256, path), or inserts one.
  Result<int64_t> UpsertProblem(const ProblemRecord& problem);
  // Returns the id of the existing row for (problem, sha256, generator), or inserts one.
  Result<int64_t> UpsertCandidate(const CandidateRecord& candidate);

  // Records one evaluation in its own transaction; returns its id.
  Result<int64_t> RecordEvaluation(const EvaluationRecord& record);

  // The newest evaluation with this cache key that may answer again (not a timeout).
  Result<std::optional<EvaluationRecord>> FindCached(const std::string& cache_key);
  Result<std::optional<EvaluationRecord>> GetEvaluation(int64_t id);

 private:
  explicit Store(std::unique_ptr<SQLite::Database> db);
  std::unique_ptr<SQLite::Database> db_;
};

// The key under which an evaluation may be answered again: see docs/schema.md.
std::string CacheKey(const std::string& problem_sha256, const std::string& candidate_sha256,
                     const core::Environment& env, const core::EvalSettings& settings);

}  // namespace kswarm::store
