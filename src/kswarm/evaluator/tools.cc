#include "kswarm/evaluator/tools.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/executor/slurm.h"
#include "kswarm/util/redact.h"
#include "kswarm/util/subprocess.h"

namespace kswarm::evaluator {

using json = nlohmann::json;

Result<std::string> RunWorkerTool(const WorkerConfig& config, const std::string& module,
                                  const std::vector<std::string>& jail_args,
                                  const std::vector<std::string>& args, double timeout_s) {
  WorkerConfig worker = config;
  if (!worker.job_name.empty()) worker.job_name += "-" + module;  // a job of its own
  SpawnOptions options;
  std::vector<std::string> argv = {worker.python, "-m", "kswarm_worker." + module};
  argv.insert(argv.end(), args.begin(), args.end());
  options.argv = Launched(worker, Contained(worker, jail_args, argv));
  options.env = WorkerEnvironment(worker);
  auto proc = Subprocess::Spawn(options);
  if (!proc) return Error(proc.error());
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(timeout_s));
  std::string last;
  for (;;) {
    auto line = (*proc)->ReadLine(deadline);
    if (line) {
      last = *line;
      continue;
    }
    if (line.error().code() == StatusCode::kDeadlineExceeded) {
      (*proc)->KillGroup();
      (*proc)->Wait(std::chrono::milliseconds(2000));
      if (!worker.job_name.empty()) (void)executor::CancelJob(worker.job_name);
      return Error(StatusCode::kDeadlineExceeded,
                   fmt::format("kswarm_worker.{} took more than {} s and was killed", module,
                               timeout_s));
    }
    break;  // end of output
  }
  ExitInfo exit = (*proc)->Wait(std::chrono::milliseconds(5000));
  json reply = json::parse(last, nullptr, false);
  if (!reply.is_object()) {
    return Error(StatusCode::kInternal,
                 fmt::format("kswarm_worker.{} gave no answer ({}): {}", module, exit.ToString(),
                             Redact((*proc)->StderrTail())));
  }
  return Redact(last);
}

Result<ProfileReport> ProfileCandidate(const WorkerConfig& worker, const ProfileJob& job) {
  std::vector<std::string> args = {"--problem", job.problem_path, "--candidate",
                                   job.candidate_path, "--device", job.device_type,
                                   "--shapes", job.shapes, "--seed", std::to_string(job.seed)};
  if (job.measured_ms > 0) {
    args.push_back("--measured-ms");
    args.push_back(fmt::format("{:.17g}", job.measured_ms));
  }
  ProfileReport report;
  auto line = RunWorkerTool(worker, "profile",
                            {"--readable", job.problem_path, "--readable", job.candidate_path},
                            args, job.timeout_s);
  if (!line) {
    if (line.error().code() != StatusCode::kDeadlineExceeded) return Error(line.error());
    report.error = line.error().message();  // a candidate that hangs under the profiler
    report.wall_ms = job.timeout_s * 1e3;
    return report;
  }
  json reply = json::parse(*line);
  report.wall_ms = reply.value("wall_ms", 0.0);
  if (reply.contains("error")) {
    report.error = reply.value("error", "");
    return report;
  }
  report.tool = reply.value("tool", "");
  report.summary = reply.value("summary", "");
  reply.erase("summary");
  report.metrics_json = reply.dump();
  return report;
}

Result<std::string> InductorCode(const WorkerConfig& worker, const std::string& problem_path,
                                 const std::string& device_type, const std::string& shapes,
                                 double timeout_s) {
  // The problem's own reference through torch.compile: kswarm's code, the shared caches.
  auto line = RunWorkerTool(worker, "inductor_code", {"--trusted", "--readable", problem_path},
                            {"--problem", problem_path, "--device", device_type, "--shapes",
                             shapes},
                            timeout_s);
  if (!line) return Error(line.error());
  json reply = json::parse(*line);
  if (reply.contains("error")) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("torch.compile on {}: {}", problem_path, reply.value("error", "")));
  }
  return reply.value("code", "");
}

}  // namespace kswarm::evaluator
