#include "kswarm/agents/replay_agent.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kswarm/util/files.h"

namespace kswarm::agents {
namespace {

namespace fs = std::filesystem;

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string WithoutLeadingZeros(const std::string& digits) {
  size_t first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

std::string StripPy(std::string name) {
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0) name.resize(name.size() - 3);
  return name;
}

Result<std::vector<RecordedCandidate>> LoadJsonl(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(StatusCode::kInvalidArgument, fmt::format("cannot read {}", path.string()));
  std::vector<RecordedCandidate> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string origin = fmt::format("{}:{}", path.string(), number);
    auto bad = [&](const std::string& why) {
      return Error(StatusCode::kInvalidArgument, fmt::format("{}: {}", origin, why));
    };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return bad("not a JSON object");
    RecordedCandidate r;
    r.origin = origin;
    const auto& problem = j.value("problem", nlohmann::json());
    if (problem.is_string()) {
      r.problem = StripPy(problem.get<std::string>());
    } else if (problem.is_number_integer()) {
      r.problem = std::to_string(problem.get<int64_t>());
    } else {
      return bad("\"problem\" must be a name or a number");
    }
    const auto& code = j.value("code", nlohmann::json());
    if (!code.is_string()) return bad("\"code\" must be a string");
    r.code = code.get<std::string>();
    const auto& level = j.value("level", nlohmann::json());
    if (level.is_number_integer()) {
      r.level = level.get<int>();
    } else if (!level.is_null()) {
      return bad("\"level\" must be a number or null");
    }
    const auto& generator = j.value("generator", nlohmann::json());
    if (generator.is_string() && !generator.get<std::string>().empty()) {
      r.generator = generator.get<std::string>();
    } else if (generator.is_null()) {
      r.generator = path.stem().string();
    } else {
      return bad("\"generator\" must be a non-empty string");
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<RecordedCandidate>> LoadFolder(const fs::path& dir) {
  static const std::regex kName(R"(level_(\d+)_problem_(\d+)_.*\.py)");
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() &&
        std::regex_match(entry.path().filename().string(), kName)) {
      files.push_back(entry.path());
    }
  }
  if (ec) return Error(StatusCode::kInvalidArgument, fmt::format("cannot list {}", dir.string()));
  if (files.empty()) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("{}: no level_L_problem_P_*.py files", dir.string()));
  }
  std::sort(files.begin(), files.end());
  std::string generator = fs::absolute(dir).lexically_normal().filename().string();
  if (generator.empty()) {  // "runs/x/" names its last component after the slash
    generator = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  }
  std::vector<RecordedCandidate> out;
  for (const fs::path& file : files) {
    std::smatch m;
    std::string name = file.filename().string();
    std::regex_match(name, m, kName);
    auto code = ReadFile(file.string());
    if (!code) return Error(StatusCode::kInvalidArgument, code.error().message());
    RecordedCandidate r;
    r.generator = generator;
    r.level = std::stoi(m[1].str());
    r.problem = WithoutLeadingZeros(m[2].str());
    r.code = std::move(*code);
    r.origin = file.string();
    out.push_back(std::move(r));
  }
  return out;
}

class ReplayAgent : public Agent {
 public:
  ReplayAgent(std::string generator, std::vector<RecordedCandidate> recorded)
      : generator_(std::move(generator)), recorded_(std::move(recorded)) {
    std::map<std::pair<std::string, std::optional<int>>, int> per_problem;
    for (const auto& r : recorded_) {
      max_attempts_ = std::max(max_attempts_, ++per_problem[{r.problem, r.level}]);
    }
  }

  std::string name() const override { return generator_; }
  int max_attempts() const override { return max_attempts_; }

  Result<std::optional<Proposal>> Propose(const AgentRequest& request) override {
    size_t wanted = request.history.size();
    size_t seen = 0;
    for (const auto& r : recorded_) {
      if (!MatchesProblem(r, request.problem)) continue;
      if (seen++ == wanted) return std::optional<Proposal>(Proposal{r.code, std::nullopt});
    }
    return std::optional<Proposal>();
  }

 private:
  std::string generator_;
  std::vector<RecordedCandidate> recorded_;
  int max_attempts_ = 1;
};

}  // namespace

Result<std::vector<RecordedCandidate>> LoadRecorded(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return LoadFolder(path);
  if (fs::is_regular_file(path, ec)) return LoadJsonl(path);
  return Error(StatusCode::kInvalidArgument,
               fmt::format("{}: no such JSONL file or folder of recorded candidates", path));
}

bool MatchesProblem(const RecordedCandidate& recorded, const ProblemView& problem) {
  if (recorded.level && problem.level && *recorded.level != *problem.level) return false;
  if (recorded.problem == problem.name) return true;
  if (!AllDigits(recorded.problem)) return false;
  size_t digits = 0;
  while (digits < problem.name.size() && problem.name[digits] >= '0' &&
         problem.name[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) return false;
  return WithoutLeadingZeros(problem.name.substr(0, digits)) ==
         WithoutLeadingZeros(recorded.problem);
}

std::vector<std::unique_ptr<Agent>> MakeReplayAgents(std::vector<RecordedCandidate> recorded) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<RecordedCandidate>> by_generator;
  for (auto& r : recorded) {
    if (!by_generator.count(r.generator)) order.push_back(r.generator);
    by_generator[r.generator].push_back(std::move(r));
  }
  std::vector<std::unique_ptr<Agent>> agents;
  for (const std::string& g : order) {
    agents.push_back(std::make_unique<ReplayAgent>(g, std::move(by_generator[g])));
  }
  return agents;
}

}  // namespace kswarm::agents
