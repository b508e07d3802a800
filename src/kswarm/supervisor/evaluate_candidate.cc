#include "kswarm/supervisor/evaluate_candidate.h"

#include <chrono>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include "kswarm/supervisor/problem_file.h"

namespace kswarm::supervisor {
namespace {

// Drawn at evaluation time, so no candidate can know its inputs in advance.
uint64_t FreshSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 31 ^ rd()) & ((1ULL << 62) - 1);
}

std::string RunName() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "eval-%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

Result<CandidateResult> EvaluateCandidate(store::Store& store, evaluator::Evaluator& evaluator,
                                          const CandidateRequest& request) {
  CandidateResult result;
  auto problem = ReadProblemFile(request.problem_path);
  if (!problem) return Error(problem.error());
  result.problem = std::move(*problem);
  auto candidate = ReadCandidateFile(request.candidate_path, request.generator);
  if (!candidate) return Error(candidate.error());
  result.candidate = std::move(*candidate);

  auto env = evaluator.Environment();
  if (!env) return Error(env.error());
  std::string key = store::CacheKey(result.problem.source_sha256, result.candidate.sha256, *env,
                                    request.settings);
  if (!request.fresh) {
    auto cached = store.FindCached(key);
    if (!cached) return Error(cached.error());
    if (cached->has_value()) {
      result.record = std::move(**cached);
      result.cached = true;
      return result;
    }
  }

  auto run_id = store.CreateRun(RunName(), "eval");
  if (!run_id) return Error(run_id.error());
  auto problem_id = store.UpsertProblem(result.problem);
  if (!problem_id) return Error(problem_id.error());
  result.candidate.problem_id = *problem_id;
  auto candidate_id = store.UpsertCandidate(result.candidate);
  if (!candidate_id) return Error(candidate_id.error());

  evaluator::EvalJob job;
  job.problem_path = result.problem.path;
  job.candidate_path = result.candidate.path;
  job.settings = request.settings;
  job.seed = FreshSeed();
  auto evaluation = evaluator.Evaluate(job);
  if (!evaluation) {
    (void)store.FinishRun(*run_id, "failed");
    return Error(evaluation.error());
  }

  store::EvaluationRecord& record = result.record;
  record.run_id = *run_id;
  record.problem_id = *problem_id;
  record.candidate_id = *candidate_id;
  record.settings = request.settings;
  record.environment = *env;
  record.evaluation = std::move(*evaluation);
  record.cache_key = key;
  auto id = store.RecordEvaluation(record);
  if (!id) return Error(id.error());
  record.id = *id;
  if (Status s = store.FinishRun(*run_id, "finished"); !s.ok()) return Error(s);
  return result;
}

}  // namespace kswarm::supervisor
