#include "kswarm/report/render.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::report {
namespace {

using nlohmann::ordered_json;

ordered_json OrNull(const std::optional<double>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string OptionalSpeedup(const std::optional<double>& v) {
  return v ? FormatSpeedup(*v) : "-";
}

std::string Interval(const RowTimes& t) {
  if (!t.speedup_low || !t.speedup_high) return "-";
  return fmt::format("[{}, {}]", FormatSpeedup(*t.speedup_low), FormatSpeedup(*t.speedup_high));
}

std::string EvaluationId(const std::optional<int64_t>& id) {
  return id ? fmt::format("#{}", *id) : "-";
}

std::string CsvNumber(const std::optional<double>& v) {
  return v ? fmt::format("{:.6g}", *v) : "";
}

// The problems table: a row per problem, its times read as the legend says.
std::string ProblemsText(const RunSummary& s) {
  std::string out =
      "\nproblems: eager ms and kept ms come from one evaluation (eval; eager kept: "
      "torch.compile's);\nspeedup: a kept candidate's estimate from its fresh samples, with its "
      "interval (docs/verification.md);\ncompile: torch.compile's speedup over eager in its own "
      "evaluation; vs compile: speedup / compile, floor 1\n";
  out += fmt::format("  {:<5} {:<40} {:>10} {:>10} {:>9} {:>17} {:>6} {:>9} {:>6} {:>10}  {}\n",
                     "level", "problem", "eager ms", "kept ms", "speedup", "interval", "eval",
                     "compile", "eval", "vs compile", "kept");
  for (const ProblemRow& r : s.problems) {
    std::string level = r.level ? std::to_string(r.level) : "-";
    if (r.status != "done") {
      out += fmt::format("  {:<5} {:<40} {}: {:.80}\n", level, r.name, r.status, r.message);
      continue;
    }
    const RowTimes& t = r.times;
    std::string noise = NoiseNote(r.eager_spread);
    out += fmt::format("  {:<5} {:<40} {:>10} {:>10} {:>9} {:>17} {:>6} {:>9} {:>6} {:>10}  {}{}{}\n",
                       level, r.name, FormatMs(t.eager_ms), FormatMs(t.kept_ms),
                       FormatSpeedup(t.speedup), Interval(t), EvaluationId(t.evaluation_id),
                       OptionalSpeedup(t.compile_speedup), EvaluationId(t.compile_evaluation_id),
                       OptionalSpeedup(t.speedup_vs_compile), r.winner,
                       r.reduced_precision ? " (reduced precision)" : "",
                       noise.empty() ? "" : "; " + noise);
  }
  return out;
}

}  // namespace

std::string Counts(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [name, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, name);
  return out.empty() ? "none" : out;
}

std::string NoiseNote(double eager_spread) {
  if (!NoisyEager(eager_spread)) return "";
  return fmt::format("eager moved {:.1f}x between evaluations", eager_spread);
}

std::string NoiseHeader(int noisy_problems) {
  if (noisy_problems == 0) return "";
  return fmt::format("eager's time moved more than {:g}x between evaluations on {} problem{}; "
                     "the host may be loaded - compare only runs on a quiet machine",
                     kNoisyEagerSpread, noisy_problems, noisy_problems == 1 ? "" : "s");
}

std::string VerificationText(const Verification& v) {
  std::string out = fmt::format("verification: {} candidates: {}\n", v.candidates,
                                Counts(v.outcomes));
  out += fmt::format("  flagged by: {}\n", Counts(v.flagged_by));
  out += fmt::format("  candidates re-verified in a fresh process on new seeds: {}, {} not kept\n",
                     v.rechecked, v.recheck_failed);
  std::string names;
  for (const std::string& n : v.degenerate) names += (names.empty() ? "" : ", ") + n;
  out += v.degenerate.empty()
             ? std::string("  degenerate problems: none\n")
             : fmt::format("  degenerate problems (eager kept): {}; geomean vs eager without "
                           "them {:.3f}x\n",
                           names, v.vs_eager_without_degenerate.overall);
  return out;
}

std::string RenderText(const RunSummary& s) {
  std::string out;
  out += fmt::format("kswarm report: run '{}' (#{}, {})\n", s.run_name, s.run_id, s.run_status);
  if (!s.resume_note.empty()) out += fmt::format("note       {}\n", s.resume_note);
  out += fmt::format("device     {} ({})\n", s.device, s.versions);
  out += fmt::format("tolerance  {}; {}\n", s.tolerance, s.precision);
  out += fmt::format("shapes     {}\n", ShapesNote(s.shapes));
  if (!s.isolation.empty()) out += fmt::format("isolation  {}\n", s.isolation);
  out += fmt::format("selection  {}\n", s.selection);
  out += fmt::format("problems   {} done, {} skipped, {} unfinished\n", s.done, s.skipped,
                     static_cast<int>(s.problems.size()) - s.done - s.skipped);
  if (s.noisy_problems) out += "timing noise: " + NoiseHeader(s.noisy_problems) + "\n";
  out += "\n";

  out += fmt::format("{:<34}{:>10}{:>18}\n", "geomean speedup (floor 1x)", "vs eager",
                     "vs torch.compile");
  out += fmt::format("{:<34}{:>9.3f}x{:>17.3f}x\n", "  overall", s.vs_eager.overall,
                     s.vs_compile.overall);
  for (const auto& [level, g] : s.vs_eager.by_level) {
    auto c = s.vs_compile.by_level.find(level);
    out += fmt::format("{:<34}{:>9.3f}x{:>18}\n", "  " + LevelName(level), g,
                       c == s.vs_compile.by_level.end() ? std::string("-")
                                                        : fmt::format("{:.3f}x", c->second));
  }

  const Distribution& d = s.distribution;
  out += fmt::format("\nspeedup distribution: median {:.3f}x, geomean {:.3f}x, "
                     "geomean excluding >= 10x {:.3f}x\n",
                     d.median, d.geomean, d.geomean_below_10x);
  for (const auto& [label, n] : d.Bins()) {
    out += fmt::format("  {:<12} {:>3} {}\n", label, n, std::string(static_cast<size_t>(n), '#'));
  }

  out += "\nwins: which agent's candidate is kept\n";
  for (const auto& [agent, n] : s.wins) {
    out += fmt::format("  {:<32}{:>4} ({:.0f}%)\n", agent, n, s.done ? 100.0 * n / s.done : 0.0);
  }

  std::set<int> levels = s.AgentLevels();
  out += "\nper agent: correct & faster / correct but slower / incorrect\n"
         "  (a candidate's median speedup over its evaluations, rechecks included; correct when "
         "all passed unflagged)\n";
  out += fmt::format("  {:<32}", "agent");
  for (int level : levels) out += fmt::format("{:>12}", LevelName(level));
  out += "\n";
  for (const auto& [agent, by_level] : s.agents) {
    out += fmt::format("  {:<32}", agent);
    for (int level : levels) {
      auto it = by_level.find(level);
      AgentCounts c = it == by_level.end() ? AgentCounts{} : it->second;
      out += fmt::format("{:>12}", fmt::format("{}/{}/{}", c.faster, c.slower, c.incorrect));
    }
    out += "\n";
  }

  out += "\nper agent: geomean speedup of its best correct candidate (floor 1)\n";
  for (const auto& [agent, by_level] : s.agent_geomeans) {
    out += fmt::format("  {:<32}", agent);
    for (int level : levels) {
      auto it = by_level.find(level);
      out += fmt::format("{:>12}", it == by_level.end() ? std::string("-")
                                                        : fmt::format("{:.3f}x", it->second));
    }
    out += "\n";
  }

  out += "\nper agent: time spent (its evaluations, fresh samples included; its model calls)\n";
  out += fmt::format("  {:<32}{:>8}{:>12}{:>12}\n", "agent", "evals", "eval s", "calls s");
  for (const auto& [agent, t] : s.agent_time) {
    out += fmt::format("  {:<32}{:>8}{:>12.1f}{:>12}\n", agent, t.evaluations, t.evaluation_s,
                       t.call_s > 0 ? fmt::format("{:.1f}", t.call_s) : std::string("-"));
  }

  if (!s.models.empty()) {
    out += "\nLLM agents: calls, tokens, cost" +
           (s.budget.empty() ? std::string() : " (budget " + s.budget + ")") + "\n";
    out += fmt::format("  {:<24}{:>7}{:>8}{:>12}{:>12}{:>10}{:>9}{:>9}{:>14}\n", "model", "calls",
                       "failed", "tokens in", "tokens out", "cost $", "correct", "faster",
                       "$ per faster");
    for (const auto& [agent, u] : s.models) {
      auto per = u.usd_per_useful();
      out += fmt::format("  {:<24}{:>7}{:>8}{:>12}{:>12}{:>10.4f}{:>9}{:>9}{:>14}\n", agent,
                         u.calls, u.failed_calls, u.tokens_in, u.tokens_out, u.cost_usd,
                         u.correct_candidates, u.faster_candidates,
                         per ? fmt::format("{:.4f}", *per) : std::string("-"));
    }
    out += "correct by attempt (share of model x problem pairs with a correct candidate)\n";
    for (const auto& [level, curve] : s.correct_by_attempt) {
      out += fmt::format("  {:<10}", LevelName(level));
      for (size_t k = 0; k < curve.size(); ++k) {
        out += fmt::format("  #{} {:>4.0f}%", k + 1, 100 * curve[k]);
      }
      out += "\n";
    }
  }

  if (!s.contexts.empty()) {
    std::set<int> context_levels;
    for (const auto& [level, counts] : s.best_context) context_levels.insert(level);
    out += "\ncontext configurations of the LLM agents: geomean speedup of their best correct "
           "candidate (floor 1)\n";
    out += fmt::format("  {:<12}{:>10}", "context", "overall");
    for (int level : context_levels) out += fmt::format("{:>12}", LevelName(level));
    out += "\n";
    for (const std::string& c : s.contexts) {
      out += fmt::format("  {:<12}{:>10}", c,
                         fmt::format("{:.3f}x", s.context_geomean_overall.at(c)));
      for (int level : context_levels) {
        auto it = s.context_geomeans.at(c).find(level);
        out += fmt::format("{:>12}", it == s.context_geomeans.at(c).end()
                                         ? std::string("-")
                                         : fmt::format("{:.3f}x", it->second));
      }
      out += "\n";
    }
    out += "best context configuration by level (share of problems; eager: none beat it)\n";
    for (const auto& [level, counts] : s.best_context) {
      int total = 0;
      for (const auto& [c, n] : counts) total += n;
      out += fmt::format("  {:<10}", LevelName(level));
      std::vector<std::string> order = s.contexts;
      order.push_back("eager");
      for (const std::string& c : order) {
        auto it = counts.find(c);
        int n = it == counts.end() ? 0 : it->second;
        out += fmt::format("  {} {:.0f}%", c, total ? 100.0 * n / total : 0.0);
      }
      out += "\n";
    }
  }

  out += "\n" + VerificationText(s.verification);

  out += ProblemsText(s);
  if (s.model) out += "\n" + RenderModelText(*s.model);
  if (!s.model_note.empty()) out += "\nwhole model: " + s.model_note + "\n";
  return out;
}

std::string RenderJson(const RunSummary& s) {
  ordered_json j;
  j["run"] = {{"id", s.run_id}, {"name", s.run_name}, {"status", s.run_status},
              {"note", s.resume_note}};
  j["device"] = s.device;
  j["versions"] = s.versions;
  j["tolerance"] = s.tolerance;
  j["precision"] = s.precision;
  j["isolation"] = s.isolation;
  j["shapes"] = s.shapes;
  j["selection"] = s.selection;
  j["timing_noise"] = {{"eager_spread_above", kNoisyEagerSpread},
                       {"problems", s.noisy_problems}};
  auto means = [](const Geomeans& g) {
    ordered_json m = {{"overall", g.overall}, {"problems", g.count}};
    ordered_json levels = ordered_json::object();
    for (const auto& [level, v] : g.by_level) levels[std::to_string(level)] = v;
    m["by_level"] = levels;
    return m;
  };
  j["geomean_speedup_vs_eager"] = means(s.vs_eager);
  j["geomean_speedup_vs_compile"] = means(s.vs_compile);
  const Distribution& d = s.distribution;
  ordered_json bins = ordered_json::array();
  for (const auto& [label, n] : d.Bins()) bins.push_back({{"label", label}, {"problems", n}});
  j["distribution"] = {{"eager_kept", d.eager_kept},
                       {"bins", bins},
                       {"edges", d.edges},
                       {"counts", d.counts},
                       {"median", d.median},
                       {"geomean", d.geomean},
                       {"geomean_below_10x", d.geomean_below_10x}};
  j["wins"] = s.wins;
  ordered_json agents = ordered_json::object();
  for (const auto& [agent, by_level] : s.agents) {
    ordered_json levels = ordered_json::object();
    for (const auto& [level, c] : by_level) {
      levels[std::to_string(level)] = {
          {"faster", c.faster}, {"slower", c.slower}, {"incorrect", c.incorrect}};
      auto g = s.agent_geomeans.find(agent);
      if (g != s.agent_geomeans.end() && g->second.count(level)) {
        levels[std::to_string(level)]["geomean"] = g->second.at(level);
      }
    }
    agents[agent] = levels;
  }
  j["agents"] = agents;
  ordered_json time = ordered_json::object();
  for (const auto& [agent, t] : s.agent_time) {
    time[agent] = {{"evaluations", t.evaluations},
                   {"evaluation_s", t.evaluation_s},
                   {"call_s", t.call_s}};
  }
  j["agent_time"] = time;
  ordered_json models = ordered_json::object();
  for (const auto& [agent, u] : s.models) {
    auto per = u.usd_per_useful();
    models[agent] = {{"calls", u.calls},
                     {"failed_calls", u.failed_calls},
                     {"tokens_in", u.tokens_in},
                     {"tokens_out", u.tokens_out},
                     {"cost_usd", u.cost_usd},
                     {"latency_ms", u.latency_ms},
                     {"correct_candidates", u.correct_candidates},
                     {"faster_candidates", u.faster_candidates},
                     {"usd_per_faster_candidate", per ? ordered_json(*per) : ordered_json()}};
  }
  j["models"] = models;
  ordered_json by_attempt = ordered_json::object();
  for (const auto& [level, curve] : s.correct_by_attempt) by_attempt[std::to_string(level)] = curve;
  j["correct_by_attempt"] = by_attempt;
  j["budget"] = s.budget;
  if (!s.contexts.empty()) {
    ordered_json contexts = ordered_json::object();
    for (const std::string& c : s.contexts) {
      ordered_json by_level = ordered_json::object();
      for (const auto& [level, g] : s.context_geomeans.at(c)) by_level[std::to_string(level)] = g;
      contexts[c] = {{"geomean_speedup", s.context_geomean_overall.at(c)},
                     {"by_level", by_level}};
    }
    ordered_json best = ordered_json::object();
    for (const auto& [level, counts] : s.best_context) {
      ordered_json row = ordered_json::object();
      for (const auto& [c, n] : counts) row[c] = n;
      best[std::to_string(level)] = row;
    }
    j["contexts"] = {{"configurations", contexts}, {"best_by_level", best}};
  }
  j["skipped"] = s.skipped;
  const Verification& v = s.verification;
  j["verification"] = {{"candidates", v.candidates},
                       {"outcomes", v.outcomes},
                       {"flagged_by", v.flagged_by},
                       {"rechecked", v.rechecked},
                       {"recheck_failed", v.recheck_failed},
                       {"degenerate", v.degenerate},
                       {"geomean_speedup_vs_eager_without_degenerate",
                        v.vs_eager_without_degenerate.overall}};
  ordered_json rows = ordered_json::array();
  for (const ProblemRow& r : s.problems) {
    const RowTimes& t = r.times;
    rows.push_back({{"name", r.name},
                    {"level", r.level ? ordered_json(r.level) : ordered_json(nullptr)},
                    {"status", r.status},
                    {"message", r.message},
                    {"evaluation_id", t.evaluation_id ? ordered_json(*t.evaluation_id) : ordered_json()},
                    {"eager_ms", OrNull(t.eager_ms)},
                    {"kept_ms", OrNull(t.kept_ms)},
                    {"speedup", t.speedup},
                    {"speedup_low", OrNull(t.speedup_low)},
                    {"speedup_high", OrNull(t.speedup_high)},
                    {"compile_evaluation_id", t.compile_evaluation_id
                                                  ? ordered_json(*t.compile_evaluation_id)
                                                  : ordered_json()},
                    {"compile_eager_ms", OrNull(t.compile_eager_ms)},
                    {"compile_ms", OrNull(t.compile_ms)},
                    {"compile_speedup", OrNull(t.compile_speedup)},
                    {"speedup_vs_compile", OrNull(t.speedup_vs_compile)},
                    {"kept", r.winner},
                    {"reduced_precision", r.reduced_precision},
                    {"degenerate", r.degenerate},
                    {"eager_spread", r.eager_spread}});
  }
  j["problems"] = rows;
  if (s.model) j["model"] = ordered_json::parse(RenderModelJson(*s.model));
  if (!s.model_note.empty()) j["model_note"] = s.model_note;
  return j.dump(2) + "\n";
}

std::string RenderCsv(const RunSummary& s) {
  std::string out =
      "run,level,problem,status,evaluation_id,eager_ms,kept_ms,speedup,compile_evaluation_id,"
      "compile_eager_ms,compile_ms,compile_speedup,speedup_vs_compile,kept,reduced_precision,"
      "device,tolerance,shapes,degenerate,eager_spread,speedup_low,speedup_high\n";
  for (const ProblemRow& r : s.problems) {
    const RowTimes& t = r.times;
    out += fmt::format(
        "{},{},{},{},{},{},{},{:.6g},{},{},{},{},{},{},{},{},{},{},{},{:.4g},{},{}\n",
        CsvField(s.run_name), r.level ? std::to_string(r.level) : "", CsvField(r.name), r.status,
        t.evaluation_id ? std::to_string(*t.evaluation_id) : "", CsvNumber(t.eager_ms),
        CsvNumber(t.kept_ms), t.speedup,
        t.compile_evaluation_id ? std::to_string(*t.compile_evaluation_id) : "",
        CsvNumber(t.compile_eager_ms), CsvNumber(t.compile_ms), CsvNumber(t.compile_speedup),
        CsvNumber(t.speedup_vs_compile), CsvField(r.winner),
        r.reduced_precision ? "true" : "false", CsvField(s.device), CsvField(s.tolerance),
        CsvField(s.shapes), r.degenerate ? "true" : "false", r.eager_spread,
        CsvNumber(t.speedup_low), CsvNumber(t.speedup_high));
  }
  return out;
}

}  // namespace kswarm::report
