#include "kswarm/report/summary.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/agents/builtin_agents.h"

namespace kswarm::report {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 1;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Distribution Distribute(const std::vector<double>& speedups) {
  Distribution d;
  d.edges = {1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0};
  d.counts.assign(d.edges.size(), 0);
  for (double s : speedups) {
    size_t bin = 0;
    while (bin + 1 < d.edges.size() && s >= d.edges[bin + 1]) ++bin;
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

Geomeans MeansOf(const std::vector<ProblemRow>& rows, bool vs_compile,
                 bool without_degenerate = false) {
  Geomeans g;
  std::vector<double> all;
  std::map<int, std::vector<double>> by_level;
  for (const ProblemRow& r : rows) {
    if (r.status != "done" || (without_degenerate && r.degenerate)) continue;
    double s = vs_compile ? r.speedup_vs_compile.value_or(1.0) : r.speedup;
    if (vs_compile && !r.speedup_vs_compile) continue;
    all.push_back(s);
    by_level[r.level].push_back(s);
  }
  g.overall = Geomean(all);
  g.count = static_cast<int>(all.size());
  for (const auto& [level, values] : by_level) g.by_level[level] = Geomean(values);
  return g;
}

std::vector<std::string> Flags(const core::Evaluation& e) {
  nlohmann::json j = nlohmann::json::parse(e.flags_json.empty() ? "[]" : e.flags_json, nullptr,
                                           false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& f : j) {
    if (f.is_string()) out.push_back(f.get<std::string>());
  }
  return out;
}

}  // namespace

std::string FlagCheck(const std::string& flag) {
  if (flag.rfind("static ", 0) == 0) return "static check";
  if (flag.rfind("degenerate problem", 0) == 0) return "degenerate problem";
  if (flag.rfind("faster than the device allows", 0) == 0) return "speed of light";
  return flag.substr(0, flag.find(':'));
}

std::string Distribution::BinLabel(size_t i) const {
  if (i + 1 == edges.size()) return fmt::format(">= {:g}x", edges[i]);
  return fmt::format("[{:g}, {:g})", edges[i], edges[i + 1]);
}

std::set<int> RunSummary::AgentLevels() const {
  std::set<int> levels;
  for (const auto& [agent, by_level] : agents) {
    for (const auto& [level, counts] : by_level) levels.insert(level);
  }
  return levels;
}

std::string LevelName(int level) { return level ? fmt::format("level {}", level) : "no level"; }

std::string FormatMs(const std::optional<double>& ms) {
  return ms ? fmt::format("{:.4g}", *ms) : "-";
}

double Geomean(const std::vector<double>& values) {
  if (values.empty()) return 1;
  double log_sum = 0;
  for (double v : values) log_sum += std::log(v);
  return std::exp(log_sum / static_cast<double>(values.size()));
}

Result<RunSummary> Summarize(store::Store& store, const store::RunRecord& run) {
  RunSummary s;
  s.run_id = run.id;
  s.run_name = run.name;
  s.run_status = run.status;
  nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  bool reduced = config.is_object() && config.value("precision", "fp32") == "reduced";
  s.precision = reduced ? "reduced precision allowed (labelled)" : "fp32 only";
  // Runs recorded before the minimum gain existed kept any candidate faster than eager; before
  // "selection" was recorded, speed-ups compared medians and the quartiles had to be apart.
  double min_gain = config.is_object() ? config.value("min_gain", 0.0) : 0.0;
  bool fastest = config.is_object() && config.value("selection", "") == "fastest_calls";
  if (min_gain <= 0) {
    s.selection = "kept when faster than eager";
  } else if (fastest) {
    s.selection = fmt::format("kept when the fastest calls are >= {:g}% faster than eager's",
                              100 * min_gain);
  } else {
    s.selection = fmt::format("kept when >= {:g}% faster than eager, timing quartiles apart",
                              100 * min_gain);
  }

  auto verdicts = store.RunProblems(run.id);
  if (!verdicts) return Error(verdicts.error());
  auto evaluations = store.EvaluationsOfRun(run.id);
  if (!evaluations) return Error(evaluations.error());

  if (!evaluations->empty()) {
    const auto& first = evaluations->front();
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

  std::map<int64_t, const store::EvaluationRecord*> by_id;
  for (const auto& e : *evaluations) by_id[e.id] = &e;
  auto calls = store.AgentCallsOfRun(run.id);
  if (!calls) return Error(calls.error());
  std::set<std::string> metered;
  for (const store::AgentCallRecord& c : *calls) {
    metered.insert(c.agent);
    ModelUsage& u = s.models[c.agent];
    ++u.calls;
    if (!c.error.empty()) ++u.failed_calls;
    u.tokens_in += c.tokens_in;
    u.tokens_out += c.tokens_out;
    u.cost_usd += c.cost_usd;
    u.latency_ms += c.latency_ms;
  }
  if (config.is_object() && config.contains("budget") && config["budget"].is_object()) {
    std::vector<std::string> parts;
    const auto& b = config["budget"];
    if (b.value("max_tokens", 0.0) > 0) parts.push_back(fmt::format("{:g} tokens", b.value("max_tokens", 0.0)));
    if (b.value("max_usd", 0.0) > 0) parts.push_back(fmt::format("${:.2f}", b.value("max_usd", 0.0)));
    if (b.value("max_wall_s", 0.0) > 0) parts.push_back(fmt::format("{:g} s", b.value("max_wall_s", 0.0)));
    if (!parts.empty()) s.budget = fmt::format("{}", fmt::join(parts, ", "));
  }
  // (level) -> attempt of first success per (agent, problem) pair; 0 for never.
  std::map<int, std::vector<int>> first_success;
  int max_attempt = 0;
  std::map<std::string, std::map<int, std::vector<double>>> agent_speedups;
  std::vector<double> done_speedups;
  // LLM members by context configuration (the run's config "members").
  std::map<std::string, std::string> member_context;
  if (config.is_object() && config.contains("members") && config["members"].is_array()) {
    for (const auto& m : config["members"]) {
      if (m.is_object()) member_context[m.value("agent", "")] = m.value("context", "none");
    }
  }
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
    ProblemRow row;
    row.name = v.problem_name;
    row.level = v.level.value_or(0);
    row.status = v.status;
    row.message = v.message;
    row.eager_ms = v.eager_ms;
    row.compile_ms = v.compile_ms;
    row.best_ms = v.best_ms;
    row.speedup = v.speedup.value_or(1.0);
    row.speedup_vs_compile = v.speedup_vs_compile;
    if (v.best_evaluation_id && by_id.count(*v.best_evaluation_id)) {
      row.winner = by_id[*v.best_evaluation_id]->generator;
      row.reduced_precision = agents::IsReducedPrecision(row.winner);
    }
    if (v.status == "skipped") ++s.skipped;
    if (v.status == "done") {
      ++s.done;
      ++s.wins[row.winner];
      done_speedups.push_back(row.speedup);
    }
    // Per agent on this problem: its best outcome over its attempts. A flagged candidate is
    // not trusted as correct.
    std::map<std::string, int> best_state;  // 0 incorrect, 1 slower, 2 faster
    std::map<std::string, double> best_speedup;  // passed unflagged, floor 1
    std::map<std::string, int> first_pass;       // metered agents: attempt of the first pass
    Verification& check = s.verification;
    bool degenerate_here = false;
    std::set<int64_t> rechecked_here;  // candidates
    for (const auto& e : *evaluations) {
      if (e.problem_id != v.problem_id) continue;
      if (e.purpose == "recheck") {
        rechecked_here.insert(e.candidate_id);
        continue;
      }
      ++check.candidates;
      ++check.outcomes[std::string(core::OutcomeName(e.evaluation.outcome))];
      std::set<std::string> checks;
      for (const std::string& flag : Flags(e.evaluation)) checks.insert(FlagCheck(flag));
      for (const std::string& name : checks) ++check.flagged_by[name];
      if (checks.count("degenerate problem")) degenerate_here = true;
      int state = 0;
      if (e.evaluation.outcome == core::Outcome::kPassed && !e.evaluation.flagged()) {
        state = e.evaluation.Speedup().value_or(0) > 1.0 ? 2 : 1;
      }
      best_state[e.generator] = std::max(best_state[e.generator], state);
      best_speedup[e.generator] =
          std::max(best_speedup[e.generator],
                   state > 0 ? std::max(1.0, e.evaluation.Speedup().value_or(1.0)) : 1.0);
      if (metered.count(e.generator)) {
        max_attempt = std::max(max_attempt, e.attempt);
        int& first = first_pass[e.generator];
        if (state > 0 && (first == 0 || e.attempt < first)) first = e.attempt;
        ModelUsage& u = s.models[e.generator];
        if (state > 0) ++u.correct_candidates;
        if (state == 2) ++u.faster_candidates;
      }
    }
    // Candidates are rechecked until one is kept (a contender on two of three evaluations
    // clearly faster, a near miss on both of its rechecks): every rechecked candidate of a
    // problem failed but the kept one, whatever the rule of the kswarm that ran it.
    check.rechecked += static_cast<int>(rechecked_here.size());
    check.recheck_failed += static_cast<int>(rechecked_here.size());
    if (v.best_evaluation_id && by_id.count(*v.best_evaluation_id) &&
        rechecked_here.count(by_id[*v.best_evaluation_id]->candidate_id)) {
      --check.recheck_failed;
    }
    if (degenerate_here) {
      row.degenerate = true;
      check.degenerate.push_back(row.name);
    }
    if (v.status == "done") {
      for (const auto& [agent, state] : best_state) {
        AgentCounts& c = s.agents[agent][row.level];
        (state == 2 ? c.faster : state == 1 ? c.slower : c.incorrect)++;
        agent_speedups[agent][row.level].push_back(best_speedup[agent]);
      }
      for (const auto& [agent, first] : first_pass) first_success[row.level].push_back(first);
      if (!s.contexts.empty()) {
        std::string winner = "eager";
        double winning = 1.0;
        for (const std::string& context : s.contexts) {
          double best = 1.0;
          for (const auto& [agent, c] : member_context) {
            auto state = best_state.find(agent);
            if (c == context && state != best_state.end() && state->second == 2) {
              best = std::max(best, best_speedup[agent]);
            }
          }
          context_speedups[context][row.level].push_back(best);
          context_all[context].push_back(best);
          if (best > winning) {
            winning = best;
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
  s.distribution = Distribute(done_speedups);
  return s;
}

}  // namespace kswarm::report
