// The agent loop of one problem: each agent's attempts, from proposal to recorded evaluation,
// with budgets, profiles and their advice (SuiteRunner::RunAgent). Its steps are private to
// SuiteRunner and tested through it, with a real CPU worker, in suite_test.cc (metered agents in
// parallel, run and member budgets, first attempts built ahead) and tests/e2e/test_context.py
// (profiles and their advice).
#include <fmt/format.h>

#include "kswarm/supervisor/evaluate_candidate.h"
#include "kswarm/supervisor/problem_session.h"
#include "kswarm/util/files.h"

namespace kswarm::supervisor {

std::optional<evaluator::BuildOutcome> SuiteRunner::Prebuild(const std::string& file,
                                                             const std::string& source) {
  if (!SubmitBuild(file, source)) return std::nullopt;
  return pool_->Wait(Sha256Hex(source));
}

Status SuiteRunner::RecordCall(ProblemSession& s, const agents::Agent& agent, int attempt,
                               const agents::CallRecord& c, std::optional<int64_t> evaluation_id,
                               const std::string& error, const std::string& purpose) {
  {
    std::lock_guard<std::mutex> shared(shared_mu_);
    Charge(agent.name(), c.tokens_in + c.tokens_out, c.cost_usd);
  }
  store::AgentCallRecord call;
  call.run_id = s.run_id;
  call.problem_id = s.problem_id;
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
}

void SuiteRunner::EmitCandidate(ProblemSession& s, const std::string& agent, std::string outcome,
                                std::optional<double> speedup) {
  s.event.agent = agent;
  s.event.outcome = std::move(outcome);
  s.event.speedup = speedup;
  Emit(s.event, ProgressEvent::Kind::kCandidate);
}

bool SuiteRunner::MayPropose(ProblemSession& s, const agents::Agent& agent) {
  if (s.stopped()) return false;
  if (!agent.metered()) return true;
  std::optional<std::string> over;
  {
    std::lock_guard<std::mutex> shared(shared_mu_);
    over = OverBudget(agent.name());
  }
  if (!over) return true;
  EmitCandidate(s, agent.name(), "budget: " + *over, std::nullopt);
  return false;
}

bool SuiteRunner::TakeAdvice(ProblemSession& s, agents::Agent& agent, int attempt,
                             const PendingAdvice& pending, agents::AgentRequest& request) {
  auto advice = agent.advisor()->Advise(pending.request);  // a model call: outside the lock
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.stopped()) return false;
  std::string& profile = request.history.back().profile;
  Status recorded = Status::Ok();
  if (advice) {
    profile = advice->text + "\n\nThe measurements behind this advice:\n\n" +
              pending.request.summary;
    recorded =
        RecordCall(s, agent, attempt, advice->call, pending.evaluation, "", "profile_advice");
  } else {
    agents::CallRecord none;  // the helper failed: the summary goes in as it is
    recorded = RecordCall(s, agent, attempt, none, pending.evaluation, advice.error().message(),
                          "profile_advice");
  }
  if (!recorded.ok()) s.failure = recorded;
  return recorded.ok();
}

std::optional<CandidateResult> SuiteRunner::EvaluateAttempt(
    ProblemSession& s, const agents::Agent& agent, int attempt, const std::string& file,
    const agents::Proposal& p, const std::optional<evaluator::BuildOutcome>& prebuilt) {
  CandidateResult candidate;
  candidate.problem = s.problem;
  candidate.candidate.path = file;
  candidate.candidate.source = p.source;
  candidate.candidate.sha256 = Sha256Hex(p.source);
  candidate.candidate.generator = agent.name();
  Status evaluated = EvaluateAndRecord(store_, s.device, settings_, s.run_id, attempt,
                                       /*fresh=*/false, /*same_run_only=*/true, candidate,
                                       prebuilt ? &*prebuilt : nullptr);
  if (evaluated.code() == StatusCode::kInvalidArgument) {
    s.broken = evaluated.message();
    return std::nullopt;
  }
  if (!evaluated.ok()) {
    s.failure = evaluated;
    return std::nullopt;
  }
  if (p.call) {
    Status recorded = RecordCall(s, agent, attempt, *p.call, candidate.record.id, "", "propose");
    if (!recorded.ok()) {
      s.failure = recorded;
      return std::nullopt;
    }
  }
  return candidate;
}

void SuiteRunner::AddAttempt(ProblemSession& s, const agents::Agent& agent,
                             const CandidateResult& candidate) {
  const core::Evaluation& e = candidate.record.evaluation;
  if (e.baseline) s.any_eager_ms = e.baseline->min_ms;
  auto speedup = e.Speedup();
  if (agent.name() == kCompileBaselineAgent && !s.compile) s.compile = candidate.record;
  if (LogGain(e, reduced_precision_allowed_)) s.passed.push_back(candidate);
  // Progress only: what is kept is decided after every agent is done.
  if (core::ClearlyFaster(e, min_gain_, reduced_precision_allowed_) &&
      (!s.leading || *speedup > *s.leading->evaluation.Speedup())) {
    s.leading = candidate.record;
  }
  s.event.cached = candidate.cached;
  s.event.best_so_far = s.leading ? s.leading->evaluation.Speedup() : std::nullopt;
  EmitCandidate(s, agent.name(), std::string(core::OutcomeName(e.outcome)), speedup);
}

std::optional<SuiteRunner::PendingAdvice> SuiteRunner::ProfileForNextAttempt(
    ProblemSession& s, const agents::Agent& agent, const CandidateResult& candidate,
    agents::AgentRequest& request) {
  auto report = ProfileAndRecord(s.device, s.run_id, agent.name(), s.problem, candidate,
                                 s.env.device_type);
  if (!report) {
    s.failure = report.error();
    return std::nullopt;
  }
  agents::Attempt& last = request.history.back();
  if (!report->error.empty()) {
    last.profile = "Profiling this attempt failed: " + report->error;
    return std::nullopt;
  }
  last.profile = report->summary;  // until an advisor's reading replaces it
  if (!agent.advisor()) return std::nullopt;
  const agents::AgentRequest& base = s.base_request;
  return PendingAdvice{agents::AdviceRequest{base.problem, base.device, last.source,
                                             last.speedup, report->tool, report->metrics_json,
                                             report->summary},
                       candidate.record.id};
}

void SuiteRunner::RunAgent(ProblemSession& s, agents::Agent& agent) {
  agents::AgentRequest request = s.base_request;
  if (agent.context().reference) request.reference = s.reference;
  std::optional<PendingAdvice> advice;  // a profile waiting for the agent's advisor
  for (int attempt = 1; attempt <= agent.max_attempts(); ++attempt) {
    if (advice && !TakeAdvice(s, agent, attempt - 1, *advice, request)) return;
    advice.reset();
    {
      std::lock_guard<std::mutex> lock(s.mu);
      if (!MayPropose(s, agent)) return;
    }
    // Outside the lock: a metered agent's proposal is a model call.
    auto prefetched = attempt == 1 ? s.first_proposals.find(&agent) : s.first_proposals.end();
    auto proposal = prefetched != s.first_proposals.end() ? std::move(prefetched->second)
                                                          : agent.Propose(request);
    std::optional<Result<std::string>> file;
    std::optional<evaluator::BuildOutcome> prebuilt;
    if (proposal && proposal->has_value()) {
      file = WriteCandidateFile((*proposal)->source);
      if (*file && s.overlap) prebuilt = Prebuild(**file, (*proposal)->source);
    }
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.stopped()) return;
    if (!proposal) {
      if (agent.metered()) {
        Status recorded = RecordCall(s, agent, attempt, agents::CallRecord{}, std::nullopt,
                                     proposal.error().message(), "propose");
        if (!recorded.ok()) s.failure = recorded;
      }
      EmitCandidate(s, agent.name(), "agent_error: " + proposal.error().message(), std::nullopt);
      return;
    }
    if (!proposal->has_value()) return;  // the agent has nothing (more) for this problem
    const agents::Proposal& p = **proposal;
    if (!*file) {
      s.failure = file->error();
      return;
    }
    if (!s.overlap) prebuilt = Prebuild(**file, p.source);  // under the lock: no timing beside it
    auto candidate = EvaluateAttempt(s, agent, attempt, **file, p, prebuilt);
    if (!candidate) return;
    AddAttempt(s, agent, *candidate);
    const core::Evaluation& e = candidate->record.evaluation;
    request.history.push_back(
        agents::Attempt{p.source, e.outcome, e.message, e.Speedup(), "", e.wall_ms / 1000});
    // Profile configurations: an attempt that passed is profiled for the next one, here, while
    // this problem holds its device.
    if (agent.context().profile && attempt < agent.max_attempts() &&
        e.outcome == core::Outcome::kPassed && !e.flagged() && e.candidate) {
      advice = ProfileForNextAttempt(s, agent, *candidate, request);
      if (s.stopped()) return;
    }
  }
}

}  // namespace kswarm::supervisor
