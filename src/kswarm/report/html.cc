#include "kswarm/report/html.h"
#include "kswarm/report/render.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

namespace kswarm::report {

extern const char kReportTemplate[];  // report.html.mustache, embedded at build time

namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Bar {
  std::string label;
  std::vector<double> values;  // one per series
};

// The value labels of a chart, the same text as the table beside it.
using Format = std::string (*)(double);
std::string Count(double v) { return fmt::format("{:.0f}", v); }
std::string Percent(double v) { return fmt::format("{:.0f}%", v); }
std::string Speedup(double v) { return v > 0 ? FormatSpeedup(v) : "-"; }  // 0: none, as tables

// A horizontal bar chart: one row per Bar, `series` colours side by side (or stacked). Speed-up
// charts (kLogFromOne) draw a labelled 1x line where their bars start.
std::string BarChart(const std::string& id, const std::vector<Bar>& bars,
                     const std::vector<std::string>& series, bool stacked, Scale scale,
                     Format format, const std::string& table = "") {
  const std::vector<std::string> colours = {"#3b7dd8", "#e08a2b", "#c43c3c", "#5aa05a",
                                            "#999999"};
  const int label_w = 240, chart_w = 560, top = scale == Scale::kLogFromOne ? 16 : 0;
  const int row_h = stacked ? 22 : 14 * static_cast<int>(series.size()) + 8;
  double max_v = 0;
  for (const Bar& b : bars) {
    double total = 0;
    for (double v : b.values) {
      max_v = std::max(max_v, v);
      total += v;
    }
    if (stacked) max_v = std::max(max_v, total);
  }
  int rows_h = static_cast<int>(bars.size()) * row_h;
  int height = top + rows_h + 30;
  std::string svg = fmt::format(
      "<svg class=\"chart {}\" id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
      "height=\"{}\" role=\"img\"{}>\n",
      scale == Scale::kLogFromOne ? "speedup" : "count", id, label_w + chart_w + 80, height,
      table.empty() ? "" : fmt::format(" data-table=\"{}\"", table));
  if (scale == Scale::kLogFromOne) {
    svg += fmt::format(
        "<line class=\"one-x\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#444\" "
        "stroke-width=\"1.5\"/><text class=\"one-x-label\" x=\"{0}\" y=\"11\" "
        "text-anchor=\"middle\">1x</text>\n",
        label_w, top - 2, top + rows_h + 2);
    // Faint 2x, 5x, 10x, ... lines to read the log scale by.
    for (double t : {2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0}) {
      if (t > max_v) break;
      double x = label_w + chart_w * BarFraction(scale, t, max_v);
      svg += fmt::format(
          "<line class=\"grid\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
          "stroke=\"#ddd\"/><text x=\"{0:.1f}\" y=\"11\" text-anchor=\"middle\">{3:g}x</text>\n",
          x, top - 2, top + rows_h + 2, t);
    }
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    int y = top + static_cast<int>(i) * row_h + 4;
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", label_w - 6,
                       y + 12, Escape(bars[i].label));
    double x = label_w;
    for (size_t s = 0; s < bars[i].values.size(); ++s) {
      double v = bars[i].values[s];
      double f = BarFraction(scale, v, max_v);
      double w = f > 0 ? std::max(1.0, chart_w * f) : 0.0;  // a nonzero value stays visible
      double by = stacked ? y : y + static_cast<double>(s) * 14;
      svg += fmt::format(
          "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"12\" "
          "fill=\"{}\" data-value=\"{:g}\"><title>{}: {}</title></rect>\n",
          x, by, w, colours[s % colours.size()], v, Escape(series[s]), Escape(format(v)));
      if (!stacked) {
        svg += fmt::format("<text class=\"value\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                           x + w + 4, by + 10, Escape(format(v)));
      } else {
        x += w;
      }
    }
    if (stacked) {
      std::string parts;
      for (double v : bars[i].values) parts += (parts.empty() ? "" : "/") + format(v);
      svg += fmt::format("<text class=\"value\" x=\"{:.1f}\" y=\"{}\">{}</text>\n", x + 4,
                         y + 10, Escape(parts));
    }
  }
  int ly = top + rows_h + 16;
  for (size_t s = 0; s < series.size(); ++s) {
    int lx = label_w + static_cast<int>(s) * 170;
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                       "<text x=\"{}\" y=\"{}\">{}</text>\n",
                       lx, ly, colours[s % colours.size()], lx + 14, ly + 9, Escape(series[s]));
  }
  return svg + "</svg>\n";
}

std::string X(double v) { return FormatSpeedup(v); }

// Label and value rows of the verification section: what the checks did.
data VerificationRows(const Verification& v) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"candidates", fmt::format("{}: {}", v.candidates, Counts(v.outcomes))},
      {"flagged by", Counts(v.flagged_by)},
      {"re-verified in a fresh process on new seeds",
       fmt::format("{}, {} not kept", v.rechecked, v.recheck_failed)},
  };
  std::string names;
  for (const std::string& n : v.degenerate) names += (names.empty() ? "" : ", ") + n;
  rows.emplace_back("degenerate problems",
                    v.degenerate.empty()
                        ? std::string("none")
                        : fmt::format("{} (eager kept); geomean vs eager without them {}", names,
                                      X(v.vs_eager_without_degenerate.overall)));
  data out{data::type::list};
  for (const auto& [label, value] : rows) {
    data row;
    row.set("label", label);
    row.set("value", value);
    out.push_back(row);
  }
  return out;
}

}  // namespace

double BarFraction(Scale scale, double value, double largest) {
  if (scale == Scale::kLinear) return largest > 0 && value > 0 ? value / largest : 0.0;
  if (value <= 1.0 || largest <= 1.0) return 0.0;
  return std::log(value) / std::log(largest);
}

std::string RenderHtml(const RunSummary& s) {
  data d;
  d.set("run_name", s.run_name);
  d.set("run_id", std::to_string(s.run_id));
  d.set("run_status", s.run_status);
  d.set("resume_note", s.resume_note);
  d.set("has_resume_note", data(s.resume_note.empty() ? data::type::bool_false
                                                      : data::type::bool_true));
  std::string model = s.model ? RenderModelText(*s.model) : s.model_note;
  d.set("model_text", model);
  d.set("has_model", data(model.empty() ? data::type::bool_false : data::type::bool_true));
  d.set("device", s.device);
  d.set("versions", s.versions);
  d.set("tolerance", s.tolerance);
  d.set("precision", s.precision);
  d.set("isolation", s.isolation.empty() ? std::string("-") : s.isolation);
  d.set("selection", s.selection);
  d.set("shapes", ShapesNote(s.shapes));
  d.set("done", std::to_string(s.done));
  d.set("skipped", std::to_string(s.skipped));
  if (s.noisy_problems) d.set("timing_noise", NoiseHeader(s.noisy_problems));

  data means{data::type::list};
  std::vector<Bar> level_bars;
  auto add_mean = [&](const std::string& label, double eager, std::optional<double> compile) {
    data row;
    row.set("label", label);
    row.set("eager", X(eager));
    row.set("compile", compile ? X(*compile) : "-");
    means.push_back(row);
    level_bars.push_back({label, {eager, compile.value_or(0)}});
  };
  add_mean("overall", s.vs_eager.overall, s.vs_compile.overall);
  for (const auto& [level, g] : s.vs_eager.by_level) {
    auto c = s.vs_compile.by_level.find(level);
    add_mean(LevelName(level), g,
             c == s.vs_compile.by_level.end() ? std::nullopt : std::optional(c->second));
  }
  d.set("means", means);
  d.set("chart_levels", BarChart("chart-levels", level_bars, {"vs eager", "vs torch.compile"},
                                 false, Scale::kLogFromOne, Speedup, "table-means"));

  const Distribution& dist = s.distribution;
  d.set("median", X(dist.median));
  d.set("geomean", X(dist.geomean));
  d.set("geomean_below_10x", X(dist.geomean_below_10x));
  std::vector<Bar> bins;
  for (const auto& [label, n] : dist.Bins()) bins.push_back({label, {static_cast<double>(n)}});
  d.set("chart_distribution", BarChart("chart-distribution", bins, {"problems"}, false,
                                       Scale::kLinear, Count));

  std::vector<Bar> wins;
  for (const auto& [agent, n] : s.wins) wins.push_back({agent, {static_cast<double>(n)}});
  d.set("chart_wins",
        BarChart("chart-wins", wins, {"problems won"}, false, Scale::kLinear, Count));

  std::set<int> levels = s.AgentLevels();
  data level_names{data::type::list};
  for (int level : levels) level_names.push_back(data(LevelName(level)));
  d.set("levels", level_names);
  data agent_rows{data::type::list};
  std::vector<Bar> agent_bars;
  for (const auto& [agent, by_level] : s.agents) {
    data row;
    row.set("name", agent);
    data cells{data::type::list};
    AgentCounts total;
    for (int level : levels) {
      auto it = by_level.find(level);
      AgentCounts c = it == by_level.end() ? AgentCounts{} : it->second;
      cells.push_back(data(fmt::format("{}/{}/{}", c.faster, c.slower, c.incorrect)));
      total.faster += c.faster;
      total.slower += c.slower;
      total.incorrect += c.incorrect;
    }
    row.set("cells", cells);
    agent_rows.push_back(row);
    agent_bars.push_back({agent, {static_cast<double>(total.faster),
                                  static_cast<double>(total.slower),
                                  static_cast<double>(total.incorrect)}});
  }
  d.set("agents", agent_rows);
  d.set("chart_agents",
        BarChart("chart-agents", agent_bars,
                 {"correct & faster", "correct but slower", "incorrect"}, true, Scale::kLinear,
                 Count));

  data geomean_rows{data::type::list};
  for (const auto& [agent, by_level] : s.agent_geomeans) {
    data row;
    row.set("name", agent);
    data cells{data::type::list};
    for (int level : levels) {
      auto it = by_level.find(level);
      cells.push_back(data(it == by_level.end() ? std::string("-") : X(it->second)));
    }
    row.set("cells", cells);
    geomean_rows.push_back(row);
  }
  d.set("agent_geomeans", geomean_rows);

  data time_rows{data::type::list};
  for (const auto& [agent, t] : s.agent_time) {
    data row;
    row.set("name", agent);
    row.set("evaluations", std::to_string(t.evaluations));
    row.set("evaluation_s", fmt::format("{:.1f}", t.evaluation_s));
    row.set("call_s", t.call_s > 0 ? fmt::format("{:.1f}", t.call_s) : std::string("-"));
    time_rows.push_back(row);
  }
  d.set("agent_time", time_rows);

  if (!s.models.empty()) {
    d.set("has_models", data(data::type::bool_true));
    d.set("budget", s.budget.empty() ? std::string("none") : s.budget);
    data model_rows{data::type::list};
    for (const auto& [agent, u] : s.models) {
      data row;
      row.set("name", agent);
      row.set("calls", std::to_string(u.calls));
      row.set("failed", std::to_string(u.failed_calls));
      row.set("tokens_in", std::to_string(u.tokens_in));
      row.set("tokens_out", std::to_string(u.tokens_out));
      row.set("cost", fmt::format("{:.4f}", u.cost_usd));
      row.set("correct", std::to_string(u.correct_candidates));
      row.set("faster", std::to_string(u.faster_candidates));
      auto per = u.usd_per_useful();
      row.set("per_faster", per ? fmt::format("{:.4f}", *per) : std::string("-"));
      model_rows.push_back(row);
    }
    d.set("models", model_rows);
    std::vector<std::string> series;
    size_t attempts = 0;
    for (const auto& [level, curve] : s.correct_by_attempt) {
      series.push_back(LevelName(level));
      attempts = std::max(attempts, curve.size());
    }
    std::vector<Bar> attempt_bars;
    for (size_t k = 0; k < attempts; ++k) {
      Bar bar{fmt::format("by attempt {}", k + 1), {}};
      for (const auto& [level, curve] : s.correct_by_attempt) {
        bar.values.push_back(k < curve.size() ? 100 * curve[k] : 0);
      }
      attempt_bars.push_back(bar);
    }
    d.set("chart_attempts", BarChart("chart-attempts", attempt_bars, series, false,
                                     Scale::kLinear, Percent));
  }

  if (!s.contexts.empty()) {
    d.set("has_contexts", data(data::type::bool_true));
    std::vector<std::string> order = s.contexts;
    order.push_back("eager");
    std::vector<Bar> best_bars;  // the seed's "best agent context configuration by level"
    for (const auto& [level, counts] : s.best_context) {
      int total = 0;
      for (const auto& [c, n] : counts) total += n;
      Bar bar{LevelName(level), {}};
      for (const std::string& c : order) {
        auto it = counts.find(c);
        bar.values.push_back(total && it != counts.end() ? 100.0 * it->second / total : 0.0);
      }
      best_bars.push_back(bar);
    }
    d.set("chart_best_context", BarChart("chart-best-context", best_bars, order, true,
                                         Scale::kLinear, Percent));
    std::vector<Bar> geomean_bars;
    data context_rows{data::type::list};
    for (const std::string& c : s.contexts) {
      geomean_bars.push_back({c, {s.context_geomean_overall.at(c)}});
      data row;
      row.set("name", c);
      row.set("overall", X(s.context_geomean_overall.at(c)));
      context_rows.push_back(row);
    }
    d.set("context_geomeans", context_rows);
    d.set("chart_context_geomeans",
          BarChart("chart-context-geomeans", geomean_bars, {"geomean speedup"}, false,
                   Scale::kLogFromOne, Speedup, "table-contexts"));
  }

  data problems{data::type::list};
  for (const ProblemRow& r : s.problems) {
    const RowTimes& t = r.times;
    bool done = r.status == "done";
    data row;
    row.set("level", r.level ? std::to_string(r.level) : "-");
    row.set("name", r.name);
    row.set("eager_ms", FormatMs(t.eager_ms));
    row.set("kept_ms", FormatMs(t.kept_ms));
    row.set("speedup", done ? X(t.speedup) : r.status);
    row.set("interval", t.speedup_low && t.speedup_high
                            ? fmt::format("[{}, {}]", X(*t.speedup_low), X(*t.speedup_high))
                            : "-");
    row.set("evaluation", t.evaluation_id ? fmt::format("#{}", *t.evaluation_id) : "-");
    row.set("compile", t.compile_speedup ? X(*t.compile_speedup) : "-");
    row.set("compile_evaluation",
            t.compile_evaluation_id ? fmt::format("#{}", *t.compile_evaluation_id) : "-");
    row.set("vs_compile", t.speedup_vs_compile ? X(*t.speedup_vs_compile) : "-");
    row.set("kept", done ? r.winner : r.message);
    row.set("reduced", r.reduced_precision ? data(data::type::bool_true)
                                           : data(data::type::bool_false));
    std::string noise = NoiseNote(r.eager_spread);
    if (done && !noise.empty()) row.set("noise", noise);
    problems.push_back(row);
  }
  d.set("problems", problems);
  d.set("verification", VerificationRows(s.verification));
  return mustache(kReportTemplate).render(d);
}

}  // namespace kswarm::report
