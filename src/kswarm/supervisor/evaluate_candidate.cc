#include "kswarm/supervisor/evaluate_candidate.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/agents/builtin_agents.h"
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

// Answers from the store when it holds the same question; true when it did.
Result<bool> AnswerFromStore(store::Store& store, const core::Environment& env,
                             const core::EvalSettings& settings,
                             std::optional<int64_t> run_filter, CandidateResult& result) {
  std::string key = store::CacheKey(result.problem.source_sha256, result.candidate.sha256, env,
                                    settings);
  auto cached = store.FindCached(key, run_filter);
  if (!cached) return Error(cached.error());
  if (!cached->has_value()) return false;
  result.record = std::move(**cached);
  result.cached = true;
  return true;
}

// Adds a phase (name -> ms) to the evaluation's phase_ms_json object.
void AddPhase(core::Evaluation& e, const char* phase, double ms) {
  nlohmann::json phases = nlohmann::json::parse(e.phase_ms_json, nullptr, false);
  if (!phases.is_object()) phases = nlohmann::json::object();
  phases[phase] = std::round(ms * 1000) / 1000;
  e.phase_ms_json = phases.dump();
}

}  // namespace

// EvaluateAndRecord, recording the evaluation with `purpose` ("candidate" or "recheck"; a recheck
// runs in a fresh sandbox process).
Status EvaluateAndRecordAs(store::Store& store, evaluator::Evaluator& evaluator,
                           const core::EvalSettings& settings, int64_t run_id, int attempt,
                           bool fresh, bool same_run_only, const std::string& purpose,
                           CandidateResult& result,
                           const evaluator::BuildOutcome* prebuilt = nullptr);

Status EvaluateAndRecord(store::Store& store, evaluator::Evaluator& evaluator,
                         const core::EvalSettings& settings, int64_t run_id, int attempt,
                         bool fresh, bool same_run_only, CandidateResult& result,
                         const evaluator::BuildOutcome* prebuilt) {
  return EvaluateAndRecordAs(store, evaluator, settings, run_id, attempt, fresh, same_run_only,
                             "candidate", result, prebuilt);
}

Result<store::EvaluationRecord> RecheckAndRecord(store::Store& store,
                                                 evaluator::Evaluator& evaluator,
                                                 const core::EvalSettings& settings,
                                                 int64_t run_id, const CandidateResult& candidate) {
  CandidateResult again = candidate;
  Status s = EvaluateAndRecordAs(store, evaluator, settings, run_id, candidate.record.attempt,
                                 /*fresh=*/true, /*same_run_only=*/true, "recheck", again);
  if (!s.ok()) return Error(s);
  return std::move(again.record);
}

Status EvaluateAndRecordAs(store::Store& store, evaluator::Evaluator& evaluator,
                           const core::EvalSettings& settings, int64_t run_id, int attempt,
                           bool fresh, bool same_run_only, const std::string& purpose,
                           CandidateResult& result, const evaluator::BuildOutcome* prebuilt) {
  auto env = evaluator.Environment();
  if (!env) return env.error();
  if (!fresh) {
    auto answered = AnswerFromStore(store, *env, settings,
                                    same_run_only ? std::optional(run_id) : std::nullopt, result);
    if (!answered) return answered.error();
    if (*answered) return Status::Ok();
  }
  auto problem_id = store.UpsertProblem(result.problem);
  if (!problem_id) return problem_id.error();
  result.candidate.problem_id = *problem_id;
  auto candidate_id = store.UpsertCandidate(result.candidate);
  if (!candidate_id) return candidate_id.error();

  evaluator::EvalJob job;
  job.problem_path = result.problem.path;
  job.candidate_path = result.candidate.path;
  job.settings = settings;
  job.seed = FreshSeed();
  job.fresh_process = purpose == "recheck";
  job.trusted = agents::IsBuiltinAgent(result.candidate.generator);
  Result<core::Evaluation> evaluation = core::Evaluation{};
  if (prebuilt && prebuilt->kind == evaluator::BuildOutcome::Kind::kCompileError) {
    evaluation->outcome = core::Outcome::kCompileError;
    evaluation->message = prebuilt->message;
    evaluation->seed = job.seed;
    evaluation->wall_ms = prebuilt->wall_ms;
  } else {
    evaluation = evaluator.Evaluate(job);
    if (!evaluation) return evaluation.error();
  }
  if (prebuilt) AddPhase(*evaluation, "prebuild", prebuilt->wall_ms);

  store::EvaluationRecord& record = result.record;
  record.run_id = run_id;
  record.problem_id = *problem_id;
  record.candidate_id = *candidate_id;
  record.settings = settings;
  record.environment = *env;
  record.evaluation = std::move(*evaluation);
  record.cache_key = store::CacheKey(result.problem.source_sha256, result.candidate.sha256, *env,
                                     settings);
  record.attempt = attempt;
  record.generator = result.candidate.generator;
  record.purpose = purpose;
  auto id = store.RecordEvaluation(record);
  if (!id) return id.error();
  record.id = *id;
  result.cached = false;
  return Status::Ok();
}

Result<CandidateResult> EvaluateCandidate(store::Store& store, evaluator::Evaluator& evaluator,
                                          const CandidateRequest& request,
                                          evaluator::BuildPool* pool) {
  CandidateResult result;
  auto problem = ReadProblemFile(request.problem_path);
  if (!problem) return Error(problem.error());
  result.problem = std::move(*problem);
  auto candidate = ReadCandidateFile(request.candidate_path, request.generator);
  if (!candidate) return Error(candidate.error());
  result.candidate = std::move(*candidate);

  auto env = evaluator.Environment();
  if (!env) return Error(env.error());
  if (!request.fresh) {
    auto answered = AnswerFromStore(store, *env, request.settings, std::nullopt, result);
    if (!answered) return Error(answered.error());
    if (*answered) return result;
  }
  auto run_id = store.CreateRun(RunName(), "eval");
  if (!run_id) return Error(run_id.error());
  std::optional<evaluator::BuildOutcome> built;
  if (pool && evaluator::CompilesOnImport(result.candidate.source)) {
    pool->Submit(result.candidate.path, result.candidate.sha256);
    built = pool->Wait(result.candidate.sha256);
  }
  Status s = EvaluateAndRecord(store, evaluator, request.settings, *run_id, /*attempt=*/1,
                               /*fresh=*/true, /*same_run_only=*/false, result,
                               built ? &*built : nullptr);
  if (!s.ok()) {
    (void)store.FinishRun(*run_id, "failed");
    return Error(s);
  }
  if (Status f = store.FinishRun(*run_id, "finished"); !f.ok()) return Error(f);
  return result;
}

}  // namespace kswarm::supervisor
