// The embedded database: runs, problems, candidates, evaluations (docs/schema.md).
//
// Thread-safety: a Store may be shared by threads; each call holds its lock for its statements
// (and transaction). SQLite in WAL mode lets several processes share the file.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
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
  int attempt = 1;        // the agent's attempt number on this problem, from 1
  std::string generator;  // who made the candidate (read from candidates; not written)
  // "candidate" (an agent's attempt) or "recheck" (a fresh sample the verdict rule asked for: a
  // fresh process, new seeds, fewer trials). Only candidates answer the cache.
  std::string purpose = "candidate";
};

struct RunRecord {
  int64_t id = 0;
  std::string name;
  std::string command;  // "eval" or "run"
  std::string status;   // "running", "finished", "failed", "interrupted"
  std::string started_at;
  std::string finished_at;
  std::string config_json;  // what the run was asked to do (agents, device, settings)
};

// The supervisor's verdict on one problem of a run.
struct RunProblemRecord {
  int64_t run_id = 0;
  int64_t problem_id = 0;
  int position = 0;     // order within the run
  std::string status;   // "pending" (not started), "running" (started, not finished), "done",
                        // "skipped"
  std::string message;  // why a problem was skipped
  std::optional<int64_t> best_evaluation_id;     // fastest passed candidate, if any beat eager
  std::optional<int64_t> compile_evaluation_id;  // the torch.compile baseline's evaluation
  // The re-verification of the kept candidate (passed), or of the last one that failed it when
  // none passed.
  std::optional<int64_t> recheck_evaluation_id;
  std::optional<double> eager_ms;
  std::optional<double> compile_ms;
  std::optional<double> best_ms;
  std::optional<double> speedup;             // eager / best, floor 1
  std::optional<double> speedup_vs_compile;  // torch.compile / best, floor 1
  // The kept speed-up's confidence interval (docs/verification.md); empty when eager stays.
  std::optional<double> speedup_low;
  std::optional<double> speedup_high;
  double wall_ms = 0;
  // Read-only, joined from problems:
  std::string problem_name;
  std::string problem_path;
  std::string problem_sha256;
  std::optional<int> level;
};

// One step of a problem's verdict (table decisions, docs/schema.md): a fresh evaluation the rule
// asked for, or its final keep / keep_eager.
struct DecisionRecord {
  int64_t problem_id = 0;
  int step = 0;
  std::string action;  // "evaluate", "keep", "keep_eager"
  std::optional<int64_t> candidate_evaluation_id;  // the candidate's first evaluation
  std::optional<int64_t> evaluation_id;  // evaluate: the fresh evaluation; keep: the one the
                                         // verdict's times come from
  std::string reason;
  double sigma = 0;  // the noise of one sample's log the step was decided with
  std::optional<double> speedup, speedup_low, speedup_high;  // keep: estimate and interval
  std::optional<int> samples;                                // keep: fresh samples behind it
};

// One model call of an LLM agent (table agent_calls). `evaluation_id` is the evaluation of the
// candidate it produced; `error` is set when the call failed after its retries.
struct AgentCallRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t problem_id = 0;
  std::string agent;
  int attempt = 1;
  std::string model;
  std::optional<int64_t> evaluation_id;
  std::string error;
  std::string request_json;
  std::string reply;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  double latency_ms = 0;
  int retries = 0;
  bool truncated = false;
  std::string purpose = "propose";  // or "profile_advice": a helper read a profile of `attempt`
};

// A profile of a passed candidate, taken for an agent of a profile configuration.
struct ProfileRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t evaluation_id = 0;  // the profiled candidate's evaluation
  std::string agent;
  std::string tool;  // "ncu", "torch.profiler"; empty when profiling failed
  std::string metrics_json;
  std::string summary;  // the rule-based reading of the metrics
  std::string error;    // why there is no profile
  double wall_ms = 0;
};

// A kept candidate of an earlier run, as reference for another device.
struct WinnerRecord {
  std::string source;
  std::string device_type;
  std::string device_name;
  double speedup = 1;
  std::string run_name;
};

class Store {
 public:
  // Opens (creating or migrating) the database at `path`. kInvalidArgument when the path is a
  // folder, the file is not a kswarm database or has a newer schema; kIoError when it cannot be
  // opened.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  // Opens an existing database for reading: never creates the file, and opens it read-only when
  // the user may not write it (then it must already have this kswarm's schema). kInvalidArgument
  // when there is no database at `path`.
  static Result<std::unique_ptr<Store>> OpenExisting(const std::string& path);
  ~Store();

  Result<int64_t> CreateRun(const std::string& name, const std::string& command,
                            const std::string& config_json = "");
  // The newest run with this name / of this command, if any.
  Result<std::optional<RunRecord>> FindRun(const std::string& name);
  Result<std::optional<RunRecord>> LatestRun(const std::string& command);
  Result<std::optional<RunRecord>> GetRun(int64_t run_id);

  // Inserts or replaces the verdict on (run, problem).
  Status PutRunProblem(const RunProblemRecord& record);
  Result<std::vector<RunProblemRecord>> RunProblems(int64_t run_id);
  // Replaces the problem's decisions in this run with `decisions`, atomically.
  Status PutDecisions(int64_t run_id, int64_t problem_id,
                      const std::vector<DecisionRecord>& decisions);
  Result<std::vector<DecisionRecord>> DecisionsOfRun(int64_t run_id);  // by problem, then step
  // Every evaluation recorded under the run, oldest first, with `generator` filled.
  Result<std::vector<EvaluationRecord>> EvaluationsOfRun(int64_t run_id);
  // Ends a run with `status`: "finished", "failed", or "interrupted" (stopped by a signal; the
  // same command resumes it).
  Status FinishRun(int64_t run_id, const std::string& status);
  // A resumed run is running again.
  Status ReopenRun(int64_t run_id);

  // Returns the id of the existing row for (sha256, path), or inserts one.
  Result<int64_t> UpsertProblem(const ProblemRecord& problem);
  // Returns the id of the existing row for (problem, sha256, generator), or inserts one.
  Result<int64_t> UpsertCandidate(const CandidateRecord& candidate);

  // Records one evaluation in its own transaction; returns its id.
  Result<int64_t> RecordEvaluation(const EvaluationRecord& record);

  // The newest evaluation with this cache key that may answer again (not a timeout); with
  // `run_id`, only one recorded under that run.
  Result<std::optional<EvaluationRecord>> FindCached(const std::string& cache_key,
                                                     std::optional<int64_t> run_id = {});
  Result<std::optional<EvaluationRecord>> GetEvaluation(int64_t id);
  Result<int64_t> RecordAgentCall(const AgentCallRecord& record);
  Result<std::vector<AgentCallRecord>> AgentCallsOfRun(int64_t run_id);
  Result<std::optional<CandidateRecord>> GetCandidate(int64_t id);
  Result<int64_t> RecordProfile(const ProfileRecord& record);
  Result<std::vector<ProfileRecord>> ProfilesOfRun(int64_t run_id);
  // The fastest candidate kept for the problem (by source hash) by any finished problem of any
  // run on a device type other than `device_type`; nullopt when there is none.
  Result<std::optional<WinnerRecord>> BestWinnerOnOtherDevice(const std::string& problem_sha256,
                                                              const std::string& device_type);

 private:
  explicit Store(std::unique_ptr<SQLite::Database> db);
  static Result<std::unique_ptr<Store>> OpenOnce(const std::string& path, int flags);
  // The newest run whose `column` (a fixed column name, never user input) equals `value`.
  Result<std::optional<RunRecord>> NewestRunWhere(const char* column, const std::string& value);
  std::mutex mu_;  // one call at a time on the connection (transactions span statements)
  std::unique_ptr<SQLite::Database> db_;
};

// The key under which an evaluation may be answered again: see docs/schema.md.
std::string CacheKey(const std::string& problem_sha256, const std::string& candidate_sha256,
                     const core::Environment& env, const core::EvalSettings& settings);

}  // namespace kswarm::store
