#include "kswarm/executor/slurm.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "kswarm/util/files.h"
#include "kswarm/util/subprocess.h"

extern char** environ;

namespace kswarm::executor {
namespace {

using namespace std::chrono_literals;

constexpr auto kCommandTimeout = 30s;  // squeue and scancel answer in milliseconds when well

// Runs a Slurm client command; its stdout, or why it failed.
Result<std::string> RunCommand(const std::vector<std::string>& argv) {
  SpawnOptions options;
  options.argv = argv;
  for (char** e = environ; e && *e; ++e) options.env.emplace_back(*e);
  auto proc = Subprocess::Spawn(options);
  if (!proc) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("the Slurm executor needs Slurm's client commands on this host: "
                             "cannot run {} ({})",
                             argv[0], proc.error().message()));
  }
  std::string out;
  auto deadline = Clock::now() + kCommandTimeout;
  for (;;) {
    auto line = (*proc)->ReadLine(deadline);
    if (!line) {
      if (line.error().code() == StatusCode::kDeadlineExceeded) {
        return Error(StatusCode::kInternal, fmt::format("{} did not answer within {} s", argv[0],
                                                        kCommandTimeout.count()));
      }
      break;
    }
    out += *line + "\n";
  }
  ExitInfo exit = (*proc)->Wait(5000ms);
  if (!exit.exited || exit.exit_code != 0) {
    return Error(StatusCode::kInternal, fmt::format("{} failed ({}): {}", fmt::join(argv, " "),
                                                    exit.ToString(), (*proc)->StderrTail()));
  }
  return out;
}

std::string UserId() { return std::to_string(::getuid()); }

}  // namespace

std::string JobNamePrefix(const std::string& db_path) {
  std::error_code ec;
  auto absolute = std::filesystem::weakly_canonical(db_path, ec);
  std::string key = ec ? db_path : absolute.string();
  return "kswarm-" + Sha256Hex(key).substr(0, 12);
}

std::vector<std::string> SrunPrefix(const config::ExecutorConfig& config, bool gpu, bool build) {
  // --unbuffered: the worker protocol is lines that must arrive when written.
  std::vector<std::string> argv = {"srun", "--nodes=1", "--ntasks=1", "--unbuffered",
                                   "--kill-on-bad-exit=1"};
  argv.push_back(fmt::format("--cpus-per-task={}", build ? 1 : config.cpus_per_worker));
  if (gpu && !build) argv.push_back(fmt::format("--gres=gpu:{}", config.gpus_per_worker));
  if (!config.partition.empty()) argv.push_back("--partition=" + config.partition);
  if (!config.account.empty()) argv.push_back("--account=" + config.account);
  if (!config.time_limit.empty()) argv.push_back("--time=" + config.time_limit);
  argv.insert(argv.end(), config.srun_args.begin(), config.srun_args.end());
  return argv;
}

std::vector<std::string> WithJobName(const std::vector<std::string>& srun,
                                     const std::string& name,
                                     const std::vector<std::string>& argv) {
  std::vector<std::string> out = srun;
  out.push_back("--job-name=" + name);
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::optional<std::string> LostToScheduler(std::string_view srun_stderr) {
  // slurmstepd's banner when Slurm ends a step or a job, and srun's own words when the
  // allocation goes away under it.
  static const std::regex banner(R"(\*\*\* (STEP|JOB) \S+ ON \S+ (.*) \*\*\*)");
  static const std::regex revoked(R"(srun: error: (.*has been revoked|Node failure))");
  std::string text(srun_stderr);
  std::smatch m;
  if (std::regex_search(text, m, banner)) {
    std::string what = m[2].str();
    auto says = [&](const char* words) { return what.find(words) != std::string::npos; };
    if (says("TIME LIMIT")) return "time limit";
    if (says("PREEMPT")) return "preempted";
    if (says("NODE FAIL")) return "node failure";
    if (says("CANCELLED")) return "cancelled";
    return "ended by Slurm";
  }
  if (std::regex_search(text, m, revoked)) return "allocation revoked";
  return std::nullopt;
}

Result<std::vector<Job>> JobsNamed(const std::string& prefix) {
  auto out = RunCommand({"squeue", "--noheader", "--user=" + UserId(), "--format=%i %j"});
  if (!out) return Error(out.error());
  std::vector<Job> jobs;
  std::istringstream in(*out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Job job;
    if (!(fields >> job.id >> job.name)) continue;
    if (job.name.rfind(prefix, 0) == 0) jobs.push_back(std::move(job));
  }
  return jobs;
}

Result<int> CancelJobsNamed(const std::string& prefix) {
  auto jobs = JobsNamed(prefix);
  if (!jobs) return Error(jobs.error());
  if (jobs->empty()) return 0;
  std::vector<std::string> argv = {"scancel"};
  for (const Job& job : *jobs) argv.push_back(job.id);
  if (auto done = RunCommand(argv); !done) return Error(done.error());
  return static_cast<int>(jobs->size());
}

Status CancelJob(const std::string& name) {
  auto done = RunCommand({"scancel", "--user=" + UserId(), "--name=" + name});
  return done ? Status::Ok() : done.error();
}

}  // namespace kswarm::executor
