#include "kswarm/cli/problems_output.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::cli {
namespace {

using nlohmann::json;

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string Label(const ProblemProbe& p) {
  return p.level ? fmt::format("level{}/{}", *p.level, p.name) : p.name;
}

}  // namespace

std::string ProblemsText(const std::vector<ProblemProbe>& probes, const std::string& device) {
  std::string out = fmt::format("problems on {}: degenerate answers and the speed of light\n",
                                device);
  size_t width = 7;
  for (const ProblemProbe& p : probes) width = std::max(width, Label(p).size());
  out += fmt::format("{:<{}}  {:>10}  {:>10}  {:>9}  {:>11}  {:>11}  {}\n", "problem", width,
                     "eager ms", "bound ms", "eager/bnd", "bytes", "FLOPs", "degenerate");
  std::vector<std::string> degenerate, failed;
  for (const ProblemProbe& p : probes) {
    if (!p.probe) {
      failed.push_back(Label(p));
      out += fmt::format("{:<{}}  failed: {}\n", Label(p), width, p.error);
      continue;
    }
    const evaluator::ProbeReply& r = *p.probe;
    std::string trivial = r.degenerate.empty() ? "-" : Join(r.degenerate, ", ");
    if (!r.degenerate.empty()) degenerate.push_back(fmt::format("{} ({})", Label(p), trivial));
    out += fmt::format("{:<{}}  {:>10.4g}  {:>10.3g}  {:>8.0f}x  {:>11.3g}  {:>11.3g}  {}\n",
                       Label(p), width, r.eager.median_ms, r.bound_ms,
                       r.bound_ms > 0 ? r.eager.median_ms / r.bound_ms : 0.0,
                       r.input_bytes + r.output_bytes, r.flops, trivial);
  }
  if (!probes.empty() && probes.front().probe) {
    const evaluator::ProbeReply& r = *probes.front().probe;
    out += fmt::format(
        "bound: inputs read (and outputs beyond the cache written) at {:.4g} GB/s, FLOPs at "
        "{:.4g} TFLOP/s, both measured here, divided by a slack of {:g}\n",
        r.peak_bytes_per_s / 1e9, r.peak_flops_per_s / 1e12, r.slack);
  }
  out += fmt::format("degenerate: {} of {}{}{}\n", degenerate.size(), probes.size(),
                     degenerate.empty() ? "" : ": ", Join(degenerate, "; "));
  if (!failed.empty()) out += fmt::format("failed: {}\n", Join(failed, ", "));
  return out;
}

std::string ProblemsJson(const std::vector<ProblemProbe>& probes, const std::string& device) {
  json rows = json::array(), degenerate = json::array(), failed = json::array();
  for (const ProblemProbe& p : probes) {
    json row = {{"name", p.name}, {"level", p.level ? json(*p.level) : json()},
                {"path", p.path}};
    if (!p.probe) {
      row["error"] = p.error;
      failed.push_back(p.name);
    } else {
      const evaluator::ProbeReply& r = *p.probe;
      row["degenerate"] = r.degenerate;
      row["input_bytes"] = r.input_bytes;
      row["output_bytes"] = r.output_bytes;
      row["flops"] = r.flops;
      row["eager_ms"] = r.eager.median_ms;
      row["bound_ms"] = r.bound_ms;
      row["peak_bytes_per_s"] = r.peak_bytes_per_s;
      row["peak_flops_per_s"] = r.peak_flops_per_s;
      row["slack"] = r.slack;
      if (!r.degenerate.empty()) degenerate.push_back(p.name);
    }
    rows.push_back(std::move(row));
  }
  return json{{"device", device},
              {"problems", rows},
              {"degenerate", degenerate},
              {"failed", failed}}
      .dump(2);
}

}  // namespace kswarm::cli
