#include "kswarm/supervisor/suite.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "kswarm/supervisor/evaluate_candidate.h"
#include "kswarm/supervisor/problem_file.h"
#include "kswarm/supervisor/problem_session.h"
#include "kswarm/supervisor/verdict_policy.h"
#include "kswarm/util/environment.h"
#include "kswarm/util/files.h"

namespace kswarm::supervisor {
namespace {

namespace fs = std::filesystem;

double NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::string> WriteCandidateFile(const std::string& source) {
  fs::path dir = fs::path(CacheDir()) / "candidates";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error(StatusCode::kIoError,
                 fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  fs::path path = dir / (Sha256Hex(source) + ".py");
  if (!fs::exists(path)) {
    static std::atomic<int> counter{0};  // agents of several threads may write at once
    fs::path tmp = path;
    tmp += fmt::format(".tmp{}.{}", ::getpid(), counter++);
    std::ofstream(tmp, std::ios::binary) << source;
    fs::rename(tmp, path, ec);
    if (ec) return Error(StatusCode::kIoError, fmt::format("cannot write {}", path.string()));
  }
  return path.string();
}

std::optional<double> LogGain(const core::Evaluation& e, bool reduced_precision_allowed) {
  auto speedup = e.Speedup();
  if (e.outcome != core::Outcome::kPassed || !e.Keepable(reduced_precision_allowed) || !speedup ||
      *speedup <= 0) {
    return std::nullopt;
  }
  return std::log(*speedup);
}

Result<std::vector<std::string>> DiscoverProblems(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    fs::path path = fs::absolute(p).lexically_normal();
    if (fs::is_regular_file(path, ec)) {
      out.push_back(path.string());
      continue;
    }
    if (!fs::is_directory(path, ec)) {
      return Error(StatusCode::kInvalidArgument, fmt::format("{}: no such file or folder", p));
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory() && (name.rfind('_', 0) == 0 || name.rfind('.', 0) == 0)) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && it->path().extension() == ".py" && name.rfind('_', 0) != 0) {
        found.push_back(it->path().string());
      }
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

SuiteRunner::SuiteRunner(store::Store& store, std::vector<evaluator::Evaluator*> devices,
                         std::vector<std::unique_ptr<agents::Agent>> agents,
                         core::EvalSettings settings, ProgressFn progress, double min_gain)
    : store_(store),
      devices_(std::move(devices)),
      agents_(std::move(agents)),
      settings_(std::move(settings)),
      progress_(std::move(progress)),
      min_gain_(min_gain) {
  rule_.min_gain = min_gain;
}

Result<SuiteResult> SuiteRunner::Run(const std::string& run_name, std::optional<int64_t> run_id,
                                     const std::string& config_json,
                                     const std::vector<std::string>& problem_paths) {
  started_s_ = NowS();
  SuiteResult result;
  result.problems = static_cast<int>(problem_paths.size());
  if (run_id) {
    result.run_id = *run_id;
    result.resumed = true;
    if (Status s = store_.ReopenRun(*run_id); !s.ok()) return Error(s);
  } else {
    auto created = store_.CreateRun(run_name, "run", config_json);
    if (!created) return Error(created.error());
    result.run_id = *created;
  }
  auto existing = store_.RunProblems(result.run_id);
  if (!existing) return Error(existing.error());
  if (result.resumed) {
    auto noise = RunNoiseOf(result.run_id, *existing);
    if (!noise) return Error(noise.error());
    run_noise_ = *noise;
  }
  auto calls = store_.AgentCallsOfRun(result.run_id);
  if (!calls) return Error(calls.error());
  for (const auto& agent : agents_) {
    agents::MemberBudget b = agent->budget();
    if (b.max_tokens || b.max_usd) {
      member_budgets_.emplace(agent->name(), RunBudget({b.max_tokens, b.max_usd, {}}));
    }
  }
  for (const auto& call : *calls) Charge(call.agent, call.tokens_in + call.tokens_out, call.cost_usd);

  std::vector<size_t> todo;
  for (size_t i = 0; i < problem_paths.size(); ++i) {
    const std::string& path = problem_paths[i];
    auto row = std::find_if(existing->begin(), existing->end(),
                            [&](const auto& rp) { return rp.problem_path == path; });
    if (row != existing->end() && (row->status == "done" || row->status == "skipped")) {
      ++result.already_done;
      continue;
    }
    todo.push_back(i);
    if (row != existing->end()) continue;
    // Every problem of the run has a row from the start, so a stopped run's report lists the
    // ones never started. An unreadable file gets its row when its turn comes (skipped).
    auto problem = ReadProblemFile(path);
    if (!problem) continue;
    auto problem_id = store_.UpsertProblem(*problem);
    if (!problem_id) return Error(problem_id.error());
    store::RunProblemRecord pending;
    pending.run_id = result.run_id;
    pending.problem_id = *problem_id;
    pending.position = static_cast<int>(i);
    pending.status = "pending";
    if (Status put = store_.PutRunProblem(pending); !put.ok()) return Error(put);
  }

  // On a GPU the pool compiles beside the timing: every problem's first unmetered attempts are
  // queued now, so that no problem waits for its own compiles.
  if (pool_ && !todo.empty()) {
    auto env = devices_.front()->Environment();
    if (!env) return Error(env.error());
    if (env->device_type == "cuda") {
      for (size_t i : todo) {
        auto problem = ReadProblemFile(problem_paths[i]);
        if (!problem) continue;  // RunProblem reports it
        prefetched_[problem_paths[i]] = ProposeFirst(BaseRequest(*problem, *env));
      }
    }
  }

  // Each device takes the next problem when it is free.
  std::atomic<size_t> next{0};
  Status failure = Status::Ok();
  auto drive = [&](evaluator::Evaluator& device) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(shared_mu_);
        if (!failure.ok()) return;
      }
      size_t k = next++;
      if (k >= todo.size()) return;
      size_t i = todo[k];
      Status s = RunProblem(device, result.run_id, static_cast<int>(i), result.problems,
                            problem_paths[i], result);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(shared_mu_);
        if (failure.ok()) failure = s;
        return;
      }
    }
  };
  if (devices_.size() == 1) {
    drive(*devices_[0]);
  } else {
    std::vector<std::thread> threads;
    for (evaluator::Evaluator* device : devices_) threads.emplace_back(drive, std::ref(*device));
    for (std::thread& t : threads) t.join();
  }
  if (!failure.ok()) return Error(failure);  // the run stays 'running': resumable
  if (Status s = store_.FinishRun(result.run_id, "finished"); !s.ok()) return Error(s);
  return result;
}

Result<NoisePool> SuiteRunner::RunNoiseOf(int64_t run_id,
                                          const std::vector<store::RunProblemRecord>& problems) {
  std::set<int64_t> done;
  for (const auto& rp : problems) {
    if (rp.status == "done") done.insert(rp.problem_id);
  }
  auto evaluations = store_.EvaluationsOfRun(run_id);
  if (!evaluations) return Error(evaluations.error());
  std::map<std::pair<int64_t, int64_t>, std::vector<double>> samples;  // by problem, candidate
  for (const auto& r : *evaluations) {
    if (r.purpose != "recheck" || !done.count(r.problem_id)) continue;
    if (auto sample = LogGain(r.evaluation, reduced_precision_allowed_)) {
      samples[{r.problem_id, r.candidate_id}].push_back(*sample);
    }
  }
  NoisePool pool;
  for (const auto& [key, xs] : samples) pool.Add(xs);
  return pool;
}

agents::AgentRequest SuiteRunner::BaseRequest(const store::ProblemRecord& problem,
                                              const core::Environment& env) const {
  agents::AgentRequest request;
  request.problem = {problem.name, problem.path, problem.source, problem.level};
  request.device = {env.device_type,   env.device_name,  env.device_json,
                    env.torch_version, env.cuda_version, env.triton_version};
  request.trials = settings_.trials;
  request.tolerance = settings_.tolerance == core::Tolerance::kStrict
                          ? "atol = rtol = 1e-4 (1e-2 for fp16/bf16 outputs)"
                          : "atol = rtol = 1e-2";
  return request;
}

bool SuiteRunner::SubmitBuild(const std::string& file, const std::string& source) {
  if (!pool_ || !evaluator::CompilesOnImport(source)) return false;
  pool_->Submit(file, Sha256Hex(source));
  return true;
}

void SuiteRunner::Charge(const std::string& agent, int64_t tokens, double usd) {
  budget_.Spend(tokens, usd);
  auto member = member_budgets_.find(agent);
  if (member != member_budgets_.end()) member->second.Spend(tokens, usd);
}

std::optional<std::string> SuiteRunner::OverBudget(const std::string& agent) const {
  double elapsed_s = NowS() - started_s_;
  if (auto over = budget_.Exceeded(elapsed_s)) return over;
  auto member = member_budgets_.find(agent);
  if (member == member_budgets_.end()) return std::nullopt;
  auto over = member->second.Exceeded(elapsed_s);
  if (over) *over = "member " + *over;
  return over;
}

Result<evaluator::ProfileReport> SuiteRunner::ProfileAndRecord(
    evaluator::Evaluator& device, int64_t run_id, const std::string& agent,
    const store::ProblemRecord& problem, const CandidateResult& candidate,
    const std::string& device_type) {
  const core::Evaluation& e = candidate.record.evaluation;
  evaluator::ProfileJob job;
  job.problem_path = problem.path;
  job.candidate_path = candidate.candidate.path;
  job.device_type = device_type;
  job.shapes = settings_.shapes;
  job.seed = static_cast<int>(e.seed);
  job.measured_ms = e.candidate->median_ms;
  job.timeout_s = settings_.timeout_s;
  auto report = evaluator::ProfileCandidate(device.config(), job);
  if (!report) return report;
  store::ProfileRecord record;
  record.run_id = run_id;
  record.evaluation_id = candidate.record.id;
  record.agent = agent;
  record.tool = report->tool;
  record.metrics_json = report->metrics_json;
  record.summary = report->summary;
  record.error = report->error;
  record.wall_ms = report->wall_ms;
  if (auto id = store_.RecordProfile(record); !id) return Error(id.error());
  return report;
}

SuiteRunner::FirstProposals SuiteRunner::ProposeFirst(const agents::AgentRequest& base) {
  FirstProposals proposals;
  for (const auto& agent : agents_) {
    if (agent->metered()) continue;
    auto proposal = agent->Propose(base);
    if (proposal && proposal->has_value()) {
      if (auto file = WriteCandidateFile((*proposal)->source)) {
        SubmitBuild(*file, (*proposal)->source);
      }
    }
    proposals.emplace(agent.get(), std::move(proposal));
  }
  return proposals;
}

Result<SuiteRunner::Kept> SuiteRunner::Decide(evaluator::Evaluator& device, int64_t run_id,
                                               int64_t problem_id,
                                               const std::vector<CandidateResult>& passed,
                                               ProgressEvent event) {
  Ledger ledger;
  {
    std::lock_guard<std::mutex> lock(shared_mu_);
    ledger.run = run_noise_;
  }
  for (const CandidateResult& c : passed) {
    ledger.contenders.push_back(
        Contender{c.record.id, *LogGain(c.record.evaluation, reduced_precision_allowed_), {},
                  false});
  }
  std::map<int64_t, std::vector<store::EvaluationRecord>> fresh;  // by contender id, passed ones
  std::vector<store::DecisionRecord> decisions;
  Kept kept;
  for (int step = 1;; ++step) {
    VerdictAction action = NextVerdictAction(ledger, rule_);
    store::DecisionRecord d;
    d.problem_id = problem_id;
    d.step = step;
    d.action = VerdictActionName(action.kind);
    d.reason = action.reason;
    d.sigma = action.sigma;
    if (action.kind != VerdictAction::Kind::kKeepEager) d.candidate_evaluation_id = action.candidate;
    if (action.kind == VerdictAction::Kind::kEvaluate) {
      size_t i = 0;
      while (ledger.contenders[i].id != action.candidate) ++i;
      core::EvalSettings fresh_settings = settings_;
      fresh_settings.trials = std::min(settings_.trials, rule_.fresh_trials);
      auto again = RecheckAndRecord(store_, device, fresh_settings, run_id, passed[i]);
      if (!again) return Error(again.error());
      const core::Evaluation& e = again->evaluation;
      auto speedup = e.Speedup();
      std::optional<double> sample = LogGain(e, reduced_precision_allowed_);
      bool ok = sample.has_value();
      if (ok) {
        ledger.contenders[i].fresh.push_back(*sample);
        fresh[action.candidate].push_back(*again);
      } else {
        ledger.contenders[i].failed = true;
      }
      d.evaluation_id = again->id;
      kept.last_fresh = again->id;
      decisions.push_back(d);
      event.agent = "fresh sample of " + passed[i].candidate.generator;
      event.outcome = ok ? std::string(core::OutcomeName(e.outcome))
                         : (e.outcome == core::Outcome::kPassed ? "passed, flagged: not kept"
                                                                : std::string(core::OutcomeName(e.outcome)));
      event.speedup = speedup;
      event.cached = false;
      Emit(event, ProgressEvent::Kind::kCandidate);
      continue;
    }
    if (action.kind == VerdictAction::Kind::kKeep) {
      // The verdict's times come from the fresh sample closest to the estimate.
      const auto& samples = fresh.at(action.candidate);
      const store::EvaluationRecord* closest = &samples.front();
      for (const auto& r : samples) {
        if (std::abs(std::log(*r.evaluation.Speedup()) - action.estimate->log_gain) <
            std::abs(std::log(*closest->evaluation.Speedup()) - action.estimate->log_gain)) {
          closest = &r;
        }
      }
      kept.evaluation = *closest;
      kept.last_fresh = samples.back().id;
      kept.speedup = std::exp(action.estimate->log_gain);
      kept.speedup_low = std::exp(action.estimate->low);
      kept.speedup_high = std::exp(action.estimate->high);
      d.evaluation_id = closest->id;
      d.speedup = kept.speedup;
      d.speedup_low = kept.speedup_low;
      d.speedup_high = kept.speedup_high;
      d.samples = action.estimate->samples;
    }
    decisions.push_back(d);
    if (Status s = store_.PutDecisions(run_id, problem_id, decisions); !s.ok()) return Error(s);
    std::lock_guard<std::mutex> lock(shared_mu_);
    for (const Contender& c : ledger.contenders) run_noise_.Add(c.fresh);
    return kept;
  }
}

void SuiteRunner::Emit(ProgressEvent event, ProgressEvent::Kind kind) {
  std::lock_guard<std::mutex> lock(shared_mu_);
  event.kind = kind;
  event.elapsed_s = NowS() - started_s_;
  if (progress_) progress_(event);
}

Status SuiteRunner::RunProblem(evaluator::Evaluator& device, int64_t run_id, int position,
                               int total, const std::string& path, SuiteResult& result) {
  double problem_started = NowS();
  ProgressEvent event;
  event.index = position;
  event.total = total;
  event.problem = path;
  auto emit = [&](ProgressEvent::Kind kind) { Emit(event, kind); };
  auto count = [&](int SuiteResult::*field) {
    std::lock_guard<std::mutex> lock(shared_mu_);
    ++(result.*field);
  };

  auto problem = ReadProblemFile(path);
  if (!problem) {
    // Not even readable: nothing to record against; say so and go on.
    event.message = problem.error().message();
    count(&SuiteResult::skipped);
    emit(ProgressEvent::Kind::kProblemSkipped);
    return Status::Ok();
  }
  event.problem = problem->name;
  auto problem_id = store_.UpsertProblem(*problem);
  if (!problem_id) return problem_id.error();
  store::RunProblemRecord verdict;
  verdict.run_id = run_id;
  verdict.problem_id = *problem_id;
  verdict.position = position;
  verdict.status = "running";
  if (Status s = store_.PutRunProblem(verdict); !s.ok()) return s;
  emit(ProgressEvent::Kind::kProblemStart);

  auto env = device.Environment();
  if (!env) return env.error();
  agents::AgentRequest base_request = BaseRequest(*problem, *env);
  std::optional<agents::ReferenceContext> reference;
  if (std::any_of(agents_.begin(), agents_.end(),
                  [](const auto& a) { return a->context().reference; })) {
    auto hello = device.Hello();
    if (!hello) return hello.error();
    ReferenceQuery query;
    query.problem = &*problem;
    query.device_type = env->device_type;
    query.build_arch = hello->build_arch;
    query.torch_version = env->torch_version;
    query.shapes = settings_.shapes;
    query.timeout_s = std::max(600.0, settings_.timeout_s);
    auto found = FindReference(store_, device.config(), references_, query);
    if (!found) return found.error();
    reference = std::move(*found);
  }

  ProblemSession s(device, run_id, *problem_id, *problem, *env, base_request, reference, event);
  // Builds ahead (set_build_pool): on a GPU beside other candidates' timing, on the CPU never.
  s.overlap = env->device_type == "cuda";
  // The unmetered agents' first attempts do not depend on any verdict: built together, at the
  // start of the run on a GPU, else now.
  if (pool_) {
    std::unique_lock<std::mutex> shared(shared_mu_);
    auto prefetched = prefetched_.find(path);
    if (prefetched != prefetched_.end()) {
      s.first_proposals = std::move(prefetched->second);
      prefetched_.erase(prefetched);
    } else {
      shared.unlock();
      s.first_proposals = ProposeFirst(base_request);
      if (!s.overlap) pool_->WaitAll();
    }
  }

  // Unmetered agents (built-ins, replay) one after another, in order; then the metered ones
  // together (a model call takes seconds to minutes).
  for (const auto& agent : agents_) {
    if (!agent->metered()) RunAgent(s, *agent);
  }
  std::vector<std::thread> threads;
  for (const auto& agent : agents_) {
    if (agent->metered()) threads.emplace_back([this, &s, a = agent.get()] { RunAgent(s, *a); });
  }
  for (std::thread& t : threads) t.join();
  if (!s.failure.ok()) return s.failure;
  event = s.event;
  if (s.broken) {
    // The problem itself is broken (or its reference fails): skip it, keep the run going.
    verdict.status = "skipped";
    verdict.message = *s.broken;
    verdict.wall_ms = (NowS() - problem_started) * 1e3;
    if (Status put = store_.PutRunProblem(verdict); !put.ok()) return put;
    event.message = *s.broken;
    count(&SuiteResult::skipped);
    emit(ProgressEvent::Kind::kProblemSkipped);
    return Status::Ok();
  }

  // The verdict: docs/verification.md, "The verdict".
  auto kept = Decide(device, run_id, *problem_id, s.passed, event);
  if (!kept) return kept.error();
  const std::optional<store::EvaluationRecord>& best = kept->evaluation;
  std::string best_agent = best ? best->generator : "eager";
  verdict.recheck_evaluation_id = kept->last_fresh;
  verdict.status = "done";
  verdict.best_evaluation_id = best ? std::optional(best->id) : std::nullopt;
  if (best) {
    verdict.eager_ms = best->evaluation.baseline->min_ms;
    verdict.best_ms = best->evaluation.candidate->min_ms;
  } else {
    // Beside compile_ms, eager's time from the same evaluation (docs/schema.md).
    std::optional<double> eager_ms = s.any_eager_ms;
    if (s.compile && s.compile->evaluation.baseline) {
      eager_ms = s.compile->evaluation.baseline->min_ms;
    }
    verdict.eager_ms = eager_ms;
    verdict.best_ms = eager_ms;
  }
  double best_speedup = best ? kept->speedup : 1.0;
  verdict.speedup = best_speedup;
  verdict.speedup_low = best ? std::optional(kept->speedup_low) : std::nullopt;
  verdict.speedup_high = best ? std::optional(kept->speedup_high) : std::nullopt;
  if (s.compile) {
    verdict.compile_evaluation_id = s.compile->id;
    if (auto compile_speedup = s.compile->evaluation.Speedup()) {
      verdict.compile_ms = s.compile->evaluation.candidate->min_ms;
      verdict.speedup_vs_compile = std::max(1.0, best_speedup / *compile_speedup);
    }
  }
  verdict.wall_ms = (NowS() - problem_started) * 1e3;
  if (Status put = store_.PutRunProblem(verdict); !put.ok()) return put;
  count(&SuiteResult::done);
  event.speedup = best_speedup;
  event.best_so_far = best_speedup;
  event.agent = best_agent;
  emit(ProgressEvent::Kind::kProblemDone);
  return Status::Ok();
}

}  // namespace kswarm::supervisor
