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

// Agents' candidates are files (the worker loads files), kept by content hash.
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

// An evaluation as a sample of the verdict rule (docs/verification.md): log(eager / candidate)
// when it passed and may be kept under the run's precision, else none.
std::optional<double> LogGain(const core::Evaluation& e, bool reduced_precision_allowed) {
  auto speedup = e.Speedup();
  if (e.outcome != core::Outcome::kPassed || !e.Keepable(reduced_precision_allowed) || !speedup ||
      *speedup <= 0) {
    return std::nullopt;
  }
  return std::log(*speedup);
}

}  // namespace

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
        Contender{c.record.id, *LogGain(c.record.evaluation, reduced_precision_allowed_), {}, false});
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

  // Agents propose concurrently when metered (a model call takes seconds to minutes); the
  // evaluator, the store and the progress callback are used by one agent at a time.
  std::mutex mu;
  std::optional<store::EvaluationRecord> best, compile;
  std::string best_agent = "eager";
  std::vector<CandidateResult> passed;  // passed and keepable, in the order evaluated
  std::optional<double> any_eager_ms;
  Status failure = Status::Ok();
  std::optional<std::string> broken;  // the problem itself fails: skip it

  // Builds ahead (set_build_pool): on a GPU beside other candidates' timing, on the CPU never.
  bool overlap = env->device_type == "cuda";
  auto prebuild = [&](const std::string& file, const std::string& source)
      -> std::optional<evaluator::BuildOutcome> {
    if (!SubmitBuild(file, source)) return std::nullopt;
    return pool_->Wait(Sha256Hex(source));
  };
  // The unmetered agents' first attempts do not depend on any verdict: built together, at the
  // start of the run on a GPU, else now.
  FirstProposals first_proposals;
  if (pool_) {
    std::unique_lock<std::mutex> shared(shared_mu_);
    auto prefetched = prefetched_.find(path);
    if (prefetched != prefetched_.end()) {
      first_proposals = std::move(prefetched->second);
      prefetched_.erase(prefetched);
    } else {
      shared.unlock();
      first_proposals = ProposeFirst(base_request);
      if (!overlap) pool_->WaitAll();
    }
  }

  // Records a metered call (a proposal's or an advice's) and charges it to the budgets; under mu.
  auto record_call = [&](const agents::Agent& agent, int attempt, const agents::CallRecord& c,
                         std::optional<int64_t> evaluation_id, const std::string& error,
                         const std::string& purpose) -> Status {
    {
      std::lock_guard<std::mutex> shared(shared_mu_);
      Charge(agent.name(), c.tokens_in + c.tokens_out, c.cost_usd);
    }
    store::AgentCallRecord call;
    call.run_id = run_id;
    call.problem_id = *problem_id;
    call.agent = agent.name();
    call.attempt = attempt;
    call.model = c.model;
    call.evaluation_id = evaluation_id;
    call.error = error;
    call.request_json = c.request_json;
    call.reply = c.reply;
    call.tokens_in = c.tokens_in;
    call.tokens_out = c.tokens_out;
    call.cost_usd = c.cost_usd;
    call.latency_ms = c.latency_ms;
    call.retries = c.retries;
    call.truncated = c.truncated;
    call.purpose = purpose;
    auto id = store_.RecordAgentCall(call);
    return id ? Status::Ok() : id.error();
  };

  auto run_agent = [&](agents::Agent& agent) {
    agents::AgentRequest request = base_request;
    if (agent.context().reference) request.reference = reference;
    // A profile waiting for the agent's advisor (read outside the lock: a model call).
    std::optional<agents::AdviceRequest> to_advise;
    int64_t advised_evaluation = 0;
    for (int attempt = 1; attempt <= agent.max_attempts(); ++attempt) {
      if (to_advise) {
        auto advice = agent.advisor()->Advise(*to_advise);
        std::lock_guard<std::mutex> lock(mu);
        if (!failure.ok() || broken) return;
        std::string& profile = request.history.back().profile;
        Status s = Status::Ok();
        if (advice) {
          profile = advice->text + "\n\nThe measurements behind this advice:\n\n" +
                    to_advise->summary;
          s = record_call(agent, attempt - 1, advice->call, advised_evaluation, "",
                          "profile_advice");
        } else {
          agents::CallRecord none;  // the helper failed: the summary goes in as it is
          s = record_call(agent, attempt - 1, none, advised_evaluation,
                          advice.error().message(), "profile_advice");
        }
        to_advise.reset();
        if (!s.ok()) {
          failure = s;
          return;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure.ok() || broken) return;
        if (agent.metered()) {
          std::optional<std::string> over;
          {
            std::lock_guard<std::mutex> shared(shared_mu_);
            over = OverBudget(agent.name());
          }
          if (over) {
            event.agent = agent.name();
            event.outcome = "budget: " + *over;
            event.speedup.reset();
            emit(ProgressEvent::Kind::kCandidate);
            return;
          }
        }
      }
      auto prefetched = attempt == 1 ? first_proposals.find(&agent) : first_proposals.end();
      auto proposal = prefetched != first_proposals.end() ? std::move(prefetched->second)
                                                          : agent.Propose(request);
      std::optional<Result<std::string>> file;
      std::optional<evaluator::BuildOutcome> prebuilt;
      if (proposal && proposal->has_value()) {
        file = WriteCandidateFile((*proposal)->source);
        if (*file && overlap) prebuilt = prebuild(**file, (*proposal)->source);
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!failure.ok() || broken) return;
      if (!proposal) {
        if (agent.metered()) {
          Status s = record_call(agent, attempt, agents::CallRecord{}, std::nullopt,
                                 proposal.error().message(), "propose");
          if (!s.ok()) failure = s;
        }
        event.agent = agent.name();
        event.outcome = "agent_error: " + proposal.error().message();
        event.speedup.reset();
        emit(ProgressEvent::Kind::kCandidate);
        return;
      }
      if (!proposal->has_value()) return;
      const agents::Proposal& p = **proposal;
      if (!*file) {
        failure = file->error();
        return;
      }
      if (!overlap) prebuilt = prebuild(**file, p.source);  // under the lock: no timing beside it
      CandidateResult candidate;
      candidate.problem = *problem;
      candidate.candidate.path = **file;
      candidate.candidate.source = p.source;
      candidate.candidate.sha256 = Sha256Hex(p.source);
      candidate.candidate.generator = agent.name();
      Status s = EvaluateAndRecord(store_, device, settings_, run_id, attempt,
                                   /*fresh=*/false, /*same_run_only=*/true, candidate,
                                   prebuilt ? &*prebuilt : nullptr);
      if (s.code() == StatusCode::kInvalidArgument) {
        broken = s.message();
        return;
      }
      if (!s.ok()) {
        failure = s;
        return;
      }
      if (p.call) {
        if (Status rs = record_call(agent, attempt, *p.call, candidate.record.id, "", "propose");
            !rs.ok()) {
          failure = rs;
          return;
        }
      }
      const core::Evaluation& e = candidate.record.evaluation;
      if (e.baseline) any_eager_ms = e.baseline->min_ms;
      auto speedup = e.Speedup();
      if (agent.name() == kCompileBaselineAgent && !compile) compile = candidate.record;
      if (LogGain(e, reduced_precision_allowed_)) passed.push_back(candidate);
      // Progress only: what is kept is decided after every agent is done.
      if (core::ClearlyFaster(e, min_gain_, reduced_precision_allowed_) &&
          (!best || *speedup > *best->evaluation.Speedup())) {
        best = candidate.record;
      }
      event.agent = agent.name();
      event.outcome = std::string(core::OutcomeName(e.outcome));
      event.speedup = speedup;
      event.cached = candidate.cached;
      event.best_so_far = best ? best->evaluation.Speedup() : std::nullopt;
      emit(ProgressEvent::Kind::kCandidate);
      request.history.push_back(agents::Attempt{p.source, e.outcome, e.message, speedup, ""});
      // Profile configurations: an attempt that passed is profiled for the next one, here, while
      // this problem holds its device.
      if (agent.context().profile && attempt < agent.max_attempts() &&
          e.outcome == core::Outcome::kPassed && !e.flagged() && e.candidate) {
        auto report = ProfileAndRecord(device, run_id, agent.name(), *problem, candidate,
                                       env->device_type);
        if (!report) {
          failure = report.error();
          return;
        }
        std::string& profile = request.history.back().profile;
        if (!report->error.empty()) {
          profile = "Profiling this attempt failed: " + report->error;
        } else if (agent.advisor()) {
          profile = report->summary;  // until the advisor's reading replaces it
          to_advise = agents::AdviceRequest{base_request.problem, base_request.device, p.source,
                                            speedup,              report->tool,
                                            report->metrics_json, report->summary};
          advised_evaluation = candidate.record.id;
        } else {
          profile = report->summary;
        }
      }
    }
  };

  // Unmetered agents (built-ins, replay) one after another, in order; then the metered ones
  // together.
  for (const auto& agent : agents_) {
    if (!agent->metered()) run_agent(*agent);
  }
  std::vector<std::thread> threads;
  for (const auto& agent : agents_) {
    if (agent->metered()) threads.emplace_back([&run_agent, a = agent.get()] { run_agent(*a); });
  }
  for (std::thread& t : threads) t.join();
  if (!failure.ok()) return failure;
  if (broken) {
    // The problem itself is broken (or its reference fails): skip it, keep the run going.
    verdict.status = "skipped";
    verdict.message = *broken;
    verdict.wall_ms = (NowS() - problem_started) * 1e3;
    if (Status put = store_.PutRunProblem(verdict); !put.ok()) return put;
    event.message = *broken;
    count(&SuiteResult::skipped);
    emit(ProgressEvent::Kind::kProblemSkipped);
    return Status::Ok();
  }

  // The verdict: docs/verification.md, "The verdict".
  auto kept = Decide(device, run_id, *problem_id, passed, event);
  if (!kept) return kept.error();
  best.reset();
  if (kept->evaluation) {
    best = kept->evaluation;
    best_agent = kept->evaluation->generator;
  }
  verdict.recheck_evaluation_id = kept->last_fresh;
  verdict.status = "done";
  verdict.best_evaluation_id = best ? std::optional(best->id) : std::nullopt;
  if (best) {
    verdict.eager_ms = best->evaluation.baseline->min_ms;
    verdict.best_ms = best->evaluation.candidate->min_ms;
  } else {
    // Beside compile_ms, eager's time from the same evaluation (docs/schema.md).
    if (compile && compile->evaluation.baseline) any_eager_ms = compile->evaluation.baseline->min_ms;
    verdict.eager_ms = any_eager_ms;
    verdict.best_ms = any_eager_ms;
  }
  double best_speedup = best ? kept->speedup : 1.0;
  verdict.speedup = best_speedup;
  verdict.speedup_low = best ? std::optional(kept->speedup_low) : std::nullopt;
  verdict.speedup_high = best ? std::optional(kept->speedup_high) : std::nullopt;
  if (compile) {
    verdict.compile_evaluation_id = compile->id;
    if (auto compile_speedup = compile->evaluation.Speedup()) {
      verdict.compile_ms = compile->evaluation.candidate->min_ms;
      verdict.speedup_vs_compile = std::max(1.0, best_speedup / *compile_speedup);
    }
  }
  verdict.wall_ms = (NowS() - problem_started) * 1e3;
  if (Status s = store_.PutRunProblem(verdict); !s.ok()) return s;
  count(&SuiteResult::done);
  event.speedup = best_speedup;
  event.best_so_far = best_speedup;
  event.agent = best_agent;
  emit(ProgressEvent::Kind::kProblemDone);
  return Status::Ok();
}

}  // namespace kswarm::supervisor
