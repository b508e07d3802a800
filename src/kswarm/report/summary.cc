#include "kswarm/report/summary.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

#include <fmt/format.h>
#include <map>

#include <nlohmann/json.hpp>

#include "kswarm/agents/builtin_agents.h"
#include "kswarm/supervisor/run_plan.h"
#include "kswarm/util/files.h"
#include "kswarm/supervisor/verdict_policy.h"

namespace kswarm::report {
namespace {

// The fastest calls of eager and the candidate, or their medians for an evaluation recorded
// without minimums: what core::Evaluation::Speedup() divides.
struct Pair {
  double eager_ms = 0;
  double candidate_ms = 0;
};
std::optional<Pair> Times(const core::Evaluation& e) {
  if (e.outcome != core::Outcome::kPassed || !e.baseline || !e.candidate) return std::nullopt;
  if (e.baseline->min_ms > 0 && e.candidate->min_ms > 0) {
    return Pair{e.baseline->min_ms, e.candidate->min_ms};
  }
  if (e.baseline->median_ms <= 0 || e.candidate->median_ms <= 0) return std::nullopt;
  return Pair{e.baseline->median_ms, e.candidate->median_ms};
}

double Median(std::vector<double> v) {
  if (v.empty()) return 1;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Geomeans MeansOf(const std::vector<ProblemRow>& rows, bool vs_compile,
                 bool without_degenerate = false) {
  Geomeans g;
  std::vector<double> all;
  std::map<int, std::vector<double>> by_level;
  for (const ProblemRow& r : rows) {
    if (r.status != "done" || (without_degenerate && r.degenerate)) continue;
    if (vs_compile && !r.times.speedup_vs_compile) continue;
    double s = vs_compile ? *r.times.speedup_vs_compile : r.times.speedup;
    all.push_back(s);
    by_level[r.level].push_back(s);
  }
  g.overall = Geomean(all);
  g.count = static_cast<int>(all.size());
  for (const auto& [level, values] : by_level) g.by_level[level] = Geomean(values);
  return g;
}

}  // namespace

std::string CheckName(const std::string& check) {
  static const std::map<std::string, std::string> kNames = {
      {"static", "static check"},
      {"state", "state left active"},
      {"reduced_precision", "reduced precision"},
      {"degenerate_problem", "degenerate problem"},
      {"speed_of_light", "speed of light"}};
  auto name = kNames.find(check);
  return name != kNames.end() ? name->second : check;
}

std::string Distribution::BinLabel(size_t i) const {
  if (i + 1 == edges.size()) return fmt::format(">= {:g}x", edges[i]);
  return fmt::format("{}{:g}, {:g})", i == 0 ? "(" : "[", edges[i], edges[i + 1]);
}

std::vector<std::pair<std::string, int>> Distribution::Bins() const {
  std::vector<std::pair<std::string, int>> bins = {{"eager kept", eager_kept}};
  for (size_t i = 0; i < counts.size(); ++i) bins.emplace_back(BinLabel(i), counts[i]);
  return bins;
}

Distribution Distribute(const std::vector<ProblemRow>& rows) {
  Distribution d;
  d.edges = {1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0};
  d.counts.assign(d.edges.size(), 0);
  std::vector<double> speedups;
  for (const ProblemRow& r : rows) {
    if (r.status != "done") continue;
    speedups.push_back(r.times.speedup);
    if (r.winner == "eager") {
      ++d.eager_kept;
      continue;
    }
    size_t bin = 0;
    while (bin + 1 < d.edges.size() && r.times.speedup >= d.edges[bin + 1]) ++bin;
    ++d.counts[bin];
  }
  d.median = Median(speedups);
  d.geomean = Geomean(speedups);
  std::vector<double> below;
  std::copy_if(speedups.begin(), speedups.end(), std::back_inserter(below),
               [](double s) { return s < 10.0; });
  d.geomean_below_10x = Geomean(below);
  return d;
}

Figure CandidateFigure(const std::vector<const store::EvaluationRecord*>& evaluations) {
  std::vector<double> logs;
  for (const store::EvaluationRecord* e : evaluations) {
    auto times = Times(e->evaluation);
    if (!times || e->evaluation.flagged()) return Figure{};
    logs.push_back(std::log(times->eager_ms / times->candidate_ms));
  }
  if (logs.empty()) return Figure{};
  return Figure{true, std::exp(Median(logs))};
}

double EagerSpread(const std::vector<const store::EvaluationRecord*>& evaluations) {
  double fastest = 0, slowest = 0;
  for (const store::EvaluationRecord* e : evaluations) {
    auto times = Times(e->evaluation);
    if (!times) continue;
    fastest = fastest > 0 ? std::min(fastest, times->eager_ms) : times->eager_ms;
    slowest = std::max(slowest, times->eager_ms);
  }
  return fastest > 0 ? slowest / fastest : 1.0;
}

bool NoisyEager(double spread) { return spread > kNoisyEagerSpread; }

RowTimes TimesOf(const store::EvaluationRecord* kept, const store::EvaluationRecord* compile,
                 const std::vector<const store::EvaluationRecord*>& of_problem) {
  RowTimes t;
  std::optional<Pair> compiled = compile ? Times(compile->evaluation) : std::nullopt;
  if (compiled) {
    t.compile_evaluation_id = compile->id;
    t.compile_eager_ms = compiled->eager_ms;
    t.compile_ms = compiled->candidate_ms;
    t.compile_speedup = compiled->eager_ms / compiled->candidate_ms;
  }
  if (std::optional<Pair> pair = kept ? Times(kept->evaluation) : std::nullopt) {
    t.evaluation_id = kept->id;
    t.eager_ms = pair->eager_ms;
    t.kept_ms = pair->candidate_ms;
    t.speedup = std::max(1.0, pair->eager_ms / pair->candidate_ms);
  } else {
    // Eager kept: any one evaluation's eager, torch.compile's first as it always runs.
    const store::EvaluationRecord* source = compiled ? compile : nullptr;
    for (size_t i = 0; !source && i < of_problem.size(); ++i) {
      if (Times(of_problem[i]->evaluation)) source = of_problem[i];
    }
    if (source) {
      t.evaluation_id = source->id;
      t.eager_ms = t.kept_ms = Times(source->evaluation)->eager_ms;
    }
  }
  if (t.compile_speedup) t.speedup_vs_compile = std::max(1.0, t.speedup / *t.compile_speedup);
  return t;
}

std::string ShapesNote(const std::string& shapes) {
  if (shapes == "small") {
    return "small (the problems' KSWARM_SMALL_SHAPES; full-size speed-ups may differ)";
  }
  if (shapes == "large") {
    return "large (the problems' KSWARM_LARGE_SHAPES, public benchmarks' sizes, or their own "
           "where they have none)";
  }
  if (shapes == "full") return "full (the problems' own sizes)";
  return shapes.empty() ? "unknown" : shapes;
}

std::string ShapeSet(const std::string& config_json,
                     const std::vector<store::EvaluationRecord>& evaluations) {
  auto plan = supervisor::ParseRunPlan(config_json);
  if (plan && !plan->shapes.empty()) return plan->shapes;
  std::set<std::string> seen;
  for (const store::EvaluationRecord& e : evaluations) seen.insert(e.settings.shapes);
  if (seen.size() > 1) return "mixed";
  return seen.empty() ? "" : *seen.begin();
}

std::set<int> RunSummary::AgentLevels() const {
  std::set<int> levels;
  for (const auto& [agent, by_level] : agents) {
    for (const auto& [level, counts] : by_level) levels.insert(level);
  }
  return levels;
}

std::string IsolationOf(const std::vector<store::EvaluationRecord>& evaluations) {
  std::map<std::string, int> seen;
  for (const auto& e : evaluations) {
    ++seen[e.environment.isolation.empty() ? "not recorded" : e.environment.isolation];
  }
  if (seen.empty()) return "";
  if (seen.size() == 1) return seen.begin()->first;
  int uncontained = 0;
  std::string why;
  for (const auto& [line, n] : seen) {
    if (line.rfind("uncontained", 0) == 0) {
      uncontained += n;
      why = line;
    }
  }
  if (uncontained == 0) return "mixed: " + seen.rbegin()->first;
  return fmt::format("mixed: {} of {} evaluations {}", uncontained, evaluations.size(), why);
}

std::string ResumeNote(const std::string& run_status) {
  if (run_status == "interrupted") return "interrupted; run the same command to resume";
  if (run_status == "stopped") {
    return "stopped before it finished (its kswarm was killed); run the same command to resume";
  }
  return "";
}

std::string LevelName(int level) { return level ? fmt::format("level {}", level) : "no level"; }

std::string FormatMs(const std::optional<double>& ms) {
  return ms ? fmt::format("{:.4g}", *ms) : "-";
}

std::string FormatSpeedup(double speedup) { return fmt::format("{:.3f}x", speedup); }

double Geomean(const std::vector<double>& values) {
  if (values.empty()) return 1;
  double log_sum = 0;
  for (double v : values) log_sum += std::log(v);
  return std::exp(log_sum / static_cast<double>(values.size()));
}

namespace {

using Evaluations = std::vector<const store::EvaluationRecord*>;

// The header: precision, selection rule, device, versions, tolerance and shape set.
void DescribeRun(const supervisor::RunPlan& plan, const store::RunRecord& run,
                 const std::vector<store::EvaluationRecord>& evaluations, RunSummary& s) {
  s.precision = plan.precision == "reduced" ? "reduced precision allowed (labelled)" : "fp32 only";
  // Runs recorded before the minimum gain existed kept any candidate faster than eager; before
  // "selection" was recorded, speed-ups compared medians and the quartiles had to be apart.
  double min_gain = plan.min_gain;
  bool fastest = plan.selection == "fastest_calls";
  const std::optional<supervisor::VerdictRule>& rule = plan.verdict;
  if (rule) {
    s.selection = fmt::format(
        "kept when fresh samples show >= {:g}% over eager at {:g} standard errors (at most {} "
        "fresh samples a candidate, {} a problem; docs/verification.md)",
        100 * rule->min_gain, rule->z, rule->max_fresh, rule->max_per_problem);
  } else if (min_gain <= 0) {
    s.selection = "kept when faster than eager";
  } else if (fastest) {
    s.selection = fmt::format("kept when the fastest calls are >= {:g}% faster than eager's",
                              100 * min_gain);
  } else {
    s.selection = fmt::format("kept when >= {:g}% faster than eager, timing quartiles apart",
                              100 * min_gain);
  }
  s.shapes = ShapeSet(run.config_json, evaluations);
  s.isolation = IsolationOf(evaluations);
  if (evaluations.empty()) return;
  const auto& first = evaluations.front();
  const core::Environment& env = first.environment;
  s.device = fmt::format("{}: {}", env.device_type, env.device_name);
  s.versions = fmt::format("torch {}", env.torch_version);
  if (env.device_type == "cuda") {
    s.versions += fmt::format(", CUDA {}, driver {}", env.cuda_version, env.driver);
  }
  s.tolerance = first.settings.tolerance == core::Tolerance::kStrict
                    ? "strict (1e-4 fp32, 1e-2 fp16/bf16)"
                    : "seed (atol = rtol = 1e-2)";
}

// Calls, tokens and cost per LLM agent, and the budget they ran under.
void MeterCalls(const supervisor::BudgetLimits& budget,
                const std::vector<store::AgentCallRecord>& calls, RunSummary& s) {
  for (const store::AgentCallRecord& c : calls) {
    ModelUsage& u = s.models[c.agent];
    ++u.calls;
    if (!c.error.empty()) ++u.failed_calls;
    u.tokens_in += c.tokens_in;
    u.tokens_out += c.tokens_out;
    u.cost_usd += c.cost_usd;
    u.latency_ms += c.latency_ms;
  }
  std::vector<std::string> parts;
  if (budget.tokens) parts.push_back(fmt::format("{} tokens", *budget.tokens));
  if (budget.usd) parts.push_back(fmt::format("${:.2f}", *budget.usd));
  if (budget.wall_s) parts.push_back(fmt::format("{:g} s", *budget.wall_s));
  if (!parts.empty()) s.budget = fmt::format("{}", fmt::join(parts, ", "));
}

// LLM member -> context configuration, for the run's configured members (config "members") that
// made a call or an evaluation in it: a member that never ran has no figures to compare.
std::map<std::string, std::string> ActiveMembers(
    const std::vector<supervisor::RunMember>& configured,
    const std::vector<store::AgentCallRecord>& calls,
    const std::vector<store::EvaluationRecord>& evaluations) {
  std::set<std::string> ran;
  for (const auto& c : calls) ran.insert(c.agent);
  for (const auto& e : evaluations) ran.insert(e.generator);
  std::map<std::string, std::string> members;
  for (const supervisor::RunMember& m : configured) {
    if (ran.count(m.agent)) members[m.agent] = m.context;
  }
  return members;
}

// One agent's best on one problem: 0 incorrect, 1 correct but slower, 2 correct and faster; and
// its best correct figure (floor 1).
struct AgentBest {
  int state = 0;
  double speedup = 1;
};

int State(const Figure& f) { return !f.correct ? 0 : f.speedup > 1.0 ? 2 : 1; }

// The checks' counts over one problem's evaluations (rechecks apart); whether it is degenerate.
bool CountChecks(const Evaluations& of_problem, Verification& check) {
  bool degenerate = false;
  for (const store::EvaluationRecord* e : of_problem) {
    if (e->purpose == "recheck") continue;
    ++check.candidates;
    ++check.outcomes[std::string(core::OutcomeName(e->evaluation.outcome))];
    std::set<std::string> checks;
    for (const core::Flag& flag : core::ParseFlags(e->evaluation.flags_json)) {
      checks.insert(CheckName(flag.check));
    }
    for (const std::string& name : checks) ++check.flagged_by[name];
    if (checks.count("degenerate problem")) degenerate = true;
  }
  return degenerate;
}

// The candidates the verdict rule sampled fresh, and how many of them it did not keep, as its
// decisions say. Runs recorded before the rule have no decisions: there every candidate evaluated
// again is counted, and all but the kept one as not kept.
void CountRechecks(const std::vector<const store::DecisionRecord*>& decisions,
                   const Evaluations& of_problem, const store::EvaluationRecord* kept,
                   Verification& check) {
  std::set<int64_t> sampled;  // candidates
  std::optional<int64_t> kept_candidate = kept ? std::optional(kept->candidate_id) : std::nullopt;
  if (!decisions.empty()) {
    std::map<int64_t, int64_t> candidate_of;  // evaluation -> candidate
    for (const store::EvaluationRecord* e : of_problem) candidate_of[e->id] = e->candidate_id;
    for (const store::DecisionRecord* d : decisions) {
      if (d->action == "evaluate" && d->candidate_evaluation_id) {
        sampled.insert(candidate_of[*d->candidate_evaluation_id]);
      }
    }
  } else {
    for (const store::EvaluationRecord* e : of_problem) {
      if (e->purpose == "recheck") sampled.insert(e->candidate_id);
    }
  }
  check.rechecked += static_cast<int>(sampled.size());
  check.recheck_failed += static_cast<int>(sampled.size());
  if (kept_candidate && sampled.count(*kept_candidate)) --check.recheck_failed;
}

}  // namespace

// The whole-model figures `kswarm optimize` wrote for this run, or why there are none.
void ModelOfRun(const std::string& optimize_dir, int64_t run_id, RunSummary& s) {
  std::string path = optimize_dir + "/report.json";
  auto text = ReadFile(path);
  if (!text) {
    s.model_note = fmt::format("{} is not there (yet): the whole model was not checked", path);
    return;
  }
  auto model = ParseModelReportJson(*text);
  if (!model) {
    s.model_note = model.error().message();
  } else if (model->run_id != run_id) {
    s.model_note = fmt::format("{} is of run #{}, not this one", path, model->run_id);
  } else {
    s.model = *model;
  }
}

Result<RunSummary> Summarize(store::Store& store, const store::RunRecord& run) {
  RunSummary s;
  s.run_id = run.id;
  s.run_name = run.name;
  s.run_status = run.status;
  s.resume_note = ResumeNote(run.status);
  // A run whose plan cannot be read is still reported, from its evaluations.
  supervisor::RunPlan plan = supervisor::ParseRunPlan(run.config_json).value_or(supervisor::RunPlan{});

  if (!plan.optimize_dir.empty()) ModelOfRun(plan.optimize_dir, run.id, s);

  auto verdicts = store.RunProblems(run.id);
  if (!verdicts) return Error(verdicts.error());
  auto evaluations = store.EvaluationsOfRun(run.id);
  if (!evaluations) return Error(evaluations.error());
  auto calls = store.AgentCallsOfRun(run.id);
  if (!calls) return Error(calls.error());
  auto decisions = store.DecisionsOfRun(run.id);
  if (!decisions) return Error(decisions.error());
  DescribeRun(plan, run, *evaluations, s);
  MeterCalls(plan.budget, *calls, s);
  for (const auto& e : *evaluations) {
    AgentTime& t = s.agent_time[e.generator];
    ++t.evaluations;
    t.evaluation_s += e.evaluation.wall_ms / 1e3;
  }
  for (const auto& c : *calls) s.agent_time[c.agent].call_s += c.latency_ms / 1e3;
  std::map<int64_t, std::vector<const store::DecisionRecord*>> decisions_of;  // by problem
  for (const auto& d : *decisions) decisions_of[d.problem_id].push_back(&d);

  std::map<int64_t, const store::EvaluationRecord*> by_id;
  std::map<int64_t, Evaluations> of_problem;
  for (const auto& e : *evaluations) {
    by_id[e.id] = &e;
    of_problem[e.problem_id].push_back(&e);
  }
  // A verdict may name an evaluation of an earlier run that answered from the store.
  std::deque<store::EvaluationRecord> earlier;
  for (const store::RunProblemRecord& v : *verdicts) {
    for (const std::optional<int64_t>& id : {v.best_evaluation_id, v.compile_evaluation_id}) {
      if (!id || by_id.count(*id)) continue;
      auto e = store.GetEvaluation(*id);
      if (!e) return Error(e.error());
      if (e->has_value()) by_id[*id] = &earlier.emplace_back(std::move(**e));
    }
  }
  auto find = [&](const std::optional<int64_t>& id) -> const store::EvaluationRecord* {
    auto it = id ? by_id.find(*id) : by_id.end();
    return it == by_id.end() ? nullptr : it->second;
  };
  // (level) -> attempt of first success per (agent, problem) pair; 0 for never.
  std::map<int, std::vector<int>> first_success;
  int max_attempt = 0;
  std::map<std::string, std::map<int, std::vector<double>>> agent_speedups;
  const std::map<std::string, std::string> member_context =
      ActiveMembers(plan.members, *calls, *evaluations);
  for (const char* c : {"none", "reference", "profile", "both"}) {
    for (const auto& [agent, context] : member_context) {
      if (context == c) {
        s.contexts.push_back(c);
        break;
      }
    }
  }
  std::map<std::string, std::map<int, std::vector<double>>> context_speedups;
  std::map<std::string, std::vector<double>> context_all;
  for (const store::RunProblemRecord& v : *verdicts) {
    const Evaluations& evals = of_problem[v.problem_id];
    const store::EvaluationRecord* kept = find(v.best_evaluation_id);
    ProblemRow row;
    row.name = v.problem_name;
    row.level = v.level.value_or(0);
    row.status = v.status;
    row.message = v.status == "pending"   ? "not started"
                  : v.status == "running" ? "started, not finished"
                                          : v.message;
    row.times = TimesOf(kept, find(v.compile_evaluation_id), evals);
    if (kept && v.speedup && v.speedup_low && v.speedup_high) {
      row.times.speedup = *v.speedup;
      row.times.speedup_low = v.speedup_low;
      row.times.speedup_high = v.speedup_high;
      if (row.times.compile_speedup) {
        row.times.speedup_vs_compile = std::max(1.0, *v.speedup / *row.times.compile_speedup);
      }
    }
    if (kept) {
      row.winner = kept->generator;
      row.reduced_precision = agents::IsReducedPrecision(row.winner) ||
                              !kept->evaluation.reduced_precision().empty();
    }
    row.eager_spread = EagerSpread(evals);
    if (v.status == "skipped") ++s.skipped;
    if (v.status == "done") {
      ++s.done;
      ++s.wins[row.winner];
      if (NoisyEager(row.eager_spread)) ++s.noisy_problems;
    }
    // Each candidate's figure over its first evaluation and its rechecks; per agent, the best of
    // its candidates. A flagged candidate is not trusted as correct.
    std::map<int64_t, Evaluations> of_candidate;
    for (const store::EvaluationRecord* e : evals) of_candidate[e->candidate_id].push_back(e);
    std::map<int64_t, Figure> figures;
    for (const auto& [candidate, list] : of_candidate) figures[candidate] = CandidateFigure(list);
    std::map<std::string, AgentBest> best;
    std::map<std::string, int> first_pass;  // metered agents: attempt of the first pass
    for (const store::EvaluationRecord* e : evals) {
      if (e->purpose == "recheck") continue;
      const Figure& figure = figures[e->candidate_id];
      int state = State(figure);
      AgentBest& b = best[e->generator];
      b.state = std::max(b.state, state);
      if (state > 0) b.speedup = std::max(b.speedup, figure.speedup);
      if (s.models.count(e->generator)) {
        max_attempt = std::max(max_attempt, e->attempt);
        int& first = first_pass[e->generator];
        if (state > 0 && (first == 0 || e->attempt < first)) first = e->attempt;
        ModelUsage& u = s.models[e->generator];
        if (state > 0) ++u.correct_candidates;
        if (state == 2) ++u.faster_candidates;
      }
    }
    if (CountChecks(evals, s.verification)) {
      row.degenerate = true;
      s.verification.degenerate.push_back(row.name);
    }
    CountRechecks(decisions_of[v.problem_id], evals, kept, s.verification);
    if (v.status == "done") {
      for (const auto& [agent, b] : best) {
        AgentCounts& c = s.agents[agent][row.level];
        (b.state == 2 ? c.faster : b.state == 1 ? c.slower : c.incorrect)++;
        agent_speedups[agent][row.level].push_back(b.speedup);
      }
      for (const auto& [agent, first] : first_pass) first_success[row.level].push_back(first);
      if (!s.contexts.empty()) {
        std::string winner = "eager";
        double winning = 1.0;
        for (const std::string& context : s.contexts) {
          double top = 1.0;
          for (const auto& [agent, c] : member_context) {
            auto b = best.find(agent);
            if (c == context && b != best.end() && b->second.state == 2) {
              top = std::max(top, b->second.speedup);
            }
          }
          context_speedups[context][row.level].push_back(top);
          context_all[context].push_back(top);
          if (top > winning) {
            winning = top;
            winner = context;
          }
        }
        ++s.best_context[row.level][winner];
      }
    }
    s.problems.push_back(std::move(row));
  }
  for (const auto& [agent, levels] : agent_speedups) {
    for (const auto& [level, values] : levels) s.agent_geomeans[agent][level] = Geomean(values);
  }
  for (const auto& [context, levels] : context_speedups) {
    for (const auto& [level, values] : levels) s.context_geomeans[context][level] = Geomean(values);
    s.context_geomean_overall[context] = Geomean(context_all[context]);
  }
  for (const auto& [level, firsts] : first_success) {
    std::vector<double>& curve = s.correct_by_attempt[level];
    for (int k = 1; k <= max_attempt; ++k) {
      int solved = 0;
      for (int first : firsts) solved += first > 0 && first <= k;
      curve.push_back(static_cast<double>(solved) / static_cast<double>(firsts.size()));
    }
  }
  s.vs_eager = MeansOf(s.problems, false);
  s.vs_compile = MeansOf(s.problems, true);
  s.verification.vs_eager_without_degenerate = MeansOf(s.problems, false, true);
  s.distribution = Distribute(s.problems);
  return s;
}

}  // namespace kswarm::report
