#include "kswarm/evaluator/protocol.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::evaluator {
namespace {

using nlohmann::json;

std::string StringOr(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

std::optional<double> NumberOrNull(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// Parses a reply line and checks the envelope; returns the object when ok=true.
Result<json> Envelope(std::string_view line, int64_t id) {
  json reply = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return Error(StatusCode::kInternal,
                 fmt::format("worker sent a malformed reply: {:.200}", std::string(line)));
  }
  if (reply.value("protocol", 0) != kProtocolVersion) {
    return Error(StatusCode::kInternal,
                 fmt::format("worker speaks protocol {}, kswarm speaks {}",
                             reply.value("protocol", json()).dump(), kProtocolVersion));
  }
  if (!reply.contains("id") || reply["id"] != id) {
    return Error(StatusCode::kInternal, fmt::format("worker answered request {} to request {}",
                                                    reply.value("id", json()).dump(), id));
  }
  if (!reply.value("ok", false)) {
    const json& err = reply.contains("error") ? reply["error"] : json::object();
    std::string kind = StringOr(err, "kind", "internal");
    std::string message = StringOr(err, "message", "no message");
    StatusCode code = (kind == "problem" || kind == "device") ? StatusCode::kInvalidArgument
                                                               : StatusCode::kInternal;
    if (code == StatusCode::kInternal) message = fmt::format("worker {} error: {}", kind, message);
    return Error(code, message);
  }
  return reply;
}

std::optional<core::TimingStats> Timing(const json& j) {
  if (!j.is_object()) return std::nullopt;
  core::TimingStats t;
  t.median_ms = j.value("median_ms", 0.0);
  t.iqr_ms = j.value("iqr_ms", 0.0);
  t.min_ms = j.value("min_ms", 0.0);
  t.count = j.value("count", 0);
  return t;
}

// The worker's cores, when it has a timing core of its own.
void AddCpus(const CpuPlan& cpus, json& req) {
  if (cpus.timing_cpu >= 0) req["cpus"] = {{"timing", cpus.timing_cpu}, {"others", cpus.others}};
}

}  // namespace

std::string EncodeHello(int64_t id) {
  return json{{"protocol", kProtocolVersion}, {"id", id}, {"op", "hello"}}.dump();
}

std::string EncodeShutdown(int64_t id) {
  return json{{"protocol", kProtocolVersion}, {"id", id}, {"op", "shutdown"}}.dump();
}

std::string EncodeEvaluate(int64_t id, const EvalJob& job) {
  const core::EvalSettings& s = job.settings;
  json req = {
      {"protocol", kProtocolVersion},
      {"id", id},
      {"op", "evaluate"},
      {"problem_path", job.problem_path},
      {"candidate_path", job.candidate_path},
      {"trials", s.trials},
      {"tolerance", std::string(core::ToleranceName(s.tolerance))},
      {"seed", job.seed},
      {"shapes", s.shapes},
      {"static_policy", s.static_policy},
      {"timing",
       {{"warmup_runs", s.warmup_runs},
        {"min_runs", s.min_runs},
        {"max_runs", s.max_runs},
        {"budget_ms", s.timing_budget_ms}}},
  };
  if (job.fresh_process) req["fresh_sandbox"] = true;
  if (job.trusted) req["trusted"] = true;
  AddCpus(job.cpus, req);
  return req.dump();
}

std::string EncodeProbe(int64_t id, const ProbeJob& job) {
  const core::EvalSettings& s = job.settings;
  json req = {{"protocol", kProtocolVersion},
              {"id", id},
              {"op", "probe"},
              {"problem_path", job.problem_path},
              {"tolerance", std::string(core::ToleranceName(s.tolerance))},
              {"seed", job.seed},
              {"shapes", s.shapes},
              {"timing", {{"min_runs", s.min_runs}}}};
  AddCpus(job.cpus, req);
  return req.dump();
}

Result<HelloReply> DecodeHello(std::string_view line, int64_t id) {
  auto reply = Envelope(line, id);
  if (!reply) return Error(reply.error());
  const json& r = *reply;
  const json& device = r.contains("device") ? r["device"] : json::object();
  HelloReply hello;
  hello.build_arch = StringOr(r, "build_arch");
  if (r.contains("device_count") && r["device_count"].is_number_integer()) {
    hello.device_count = r["device_count"].get<int>();
  }
  core::Environment& env = hello.env;
  env.device_type = StringOr(device, "type");
  env.device_name = StringOr(device, "name");
  env.driver = StringOr(device, "driver");
  env.torch_version = StringOr(r, "torch");
  env.cuda_version = StringOr(r, "cuda");
  env.python_version = StringOr(r, "python");
  env.triton_version = StringOr(r, "triton");
  env.worker_version = StringOr(r, "worker_version");
  env.device_json = device.dump();
  env.backend_flags_json = r.value("backend_flags", json::object()).dump();
  env.isolation = StringOr(r, "isolation");
  hello.contained = r.value("contained", false);
  if (env.device_type != "cuda" && env.device_type != "cpu") {
    return Error(StatusCode::kInternal,
                 fmt::format("worker reported an unknown device type '{}'", env.device_type));
  }
  return hello;
}

Result<EvaluateReply> DecodeEvaluate(std::string_view line, int64_t id) {
  auto reply = Envelope(line, id);
  if (!reply) return Error(reply.error());
  const json& r = *reply;
  auto outcome = core::ParseOutcome(StringOr(r, "outcome"));
  // Only kswarm decides a timeout; "crashed" comes from the worker when its sandbox died.
  if (!outcome || *outcome == core::Outcome::kTimeout) {
    return Error(StatusCode::kInternal,
                 fmt::format("worker reported an invalid outcome '{}'", StringOr(r, "outcome")));
  }
  EvaluateReply out;
  core::Evaluation& e = out.evaluation;
  e.outcome = *outcome;
  e.message = StringOr(r, "message");
  e.trials_run = r.value("trials_run", 0);
  e.max_abs_err = NumberOrNull(r, "max_abs_err");
  e.max_rel_err = NumberOrNull(r, "max_rel_err");
  if (r.contains("failure") && r["failure"].is_object()) e.failure_json = r["failure"].dump();
  if (r.contains("phase_ms") && r["phase_ms"].is_object()) e.phase_ms_json = r["phase_ms"].dump();
  if (r.contains("flags") && r["flags"].is_array() && !r["flags"].empty()) {
    e.flags_json = r["flags"].dump();
  }
  if (e.outcome == core::Outcome::kPassed) {
    const json& timing = r.contains("timing") ? r["timing"] : json();
    if (!timing.is_object()) {
      return Error(StatusCode::kInternal, "worker reported 'passed' without timings");
    }
    e.baseline = Timing(timing.value("baseline", json()));
    e.candidate = Timing(timing.value("candidate", json()));
    if (!e.baseline || !e.candidate || e.candidate->count == 0) {
      return Error(StatusCode::kInternal, "worker reported 'passed' with incomplete timings");
    }
  }
  out.poisoned = r.value("poisoned", false);
  return out;
}

Result<ProbeReply> DecodeProbe(std::string_view line, int64_t id) {
  auto reply = Envelope(line, id);
  if (!reply) return Error(reply.error());
  const json& r = *reply;
  const json& work = r.value("work", json::object());
  const json& peaks = r.value("peaks", json::object());
  auto eager = Timing(r.value("eager", json()));
  if (!r.contains("degenerate") || !r["degenerate"].is_array() || !work.is_object() ||
      !peaks.is_object() || !eager) {
    return Error(StatusCode::kInternal,
                 fmt::format("worker sent an incomplete probe reply: {:.200}", std::string(line)));
  }
  ProbeReply out;
  for (const json& name : r["degenerate"]) {
    if (name.is_string()) out.degenerate.push_back(name.get<std::string>());
  }
  out.input_bytes = NumberOrNull(work, "input_bytes").value_or(0);
  out.output_bytes = NumberOrNull(work, "output_bytes").value_or(0);
  out.flops = NumberOrNull(work, "flops").value_or(0);
  out.peak_bytes_per_s = NumberOrNull(peaks, "bytes_per_s").value_or(0);
  out.peak_flops_per_s = NumberOrNull(peaks, "flops_per_s").value_or(0);
  out.bound_ms = NumberOrNull(r, "bound_ms").value_or(0);
  out.slack = NumberOrNull(r, "slack").value_or(0);
  out.eager = *eager;
  return out;
}

}  // namespace kswarm::evaluator
