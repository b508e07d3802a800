#include "kswarm/supervisor/problem_file.h"

#include <filesystem>
#include <regex>

#include <fmt/format.h>

#include "kswarm/util/files.h"

namespace kswarm::supervisor {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadAsInput(const std::string& what, const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("{} {}: is a directory, expected a .py file", what, path.string()));
  }
  auto text = ReadFile(path.string());
  if (!text) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("{} {}", what, text.error().message()));
  }
  return text;
}

}  // namespace

std::optional<int> LevelFromPath(const std::string& path) {
  static const std::regex kLevel(R"(level[_-]?(\d+))", std::regex::icase);
  fs::path p = fs::path(path).parent_path();
  for (; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    std::smatch m;
    std::string name = p.filename().string();
    if (std::regex_match(name, m, kLevel)) return std::stoi(m[1].str());
  }
  return std::nullopt;
}

Result<store::ProblemRecord> ReadProblemFile(const std::string& path) {
  fs::path abs = fs::absolute(path).lexically_normal();
  auto source = ReadAsInput("problem file", abs);
  if (!source) return Error(source.error());
  store::ProblemRecord record;
  record.name = abs.stem().string();
  record.path = abs.string();
  record.level = LevelFromPath(record.path);
  record.source = std::move(*source);
  record.source_sha256 = Sha256Hex(record.source);
  return record;
}

Result<store::CandidateRecord> ReadCandidateFile(const std::string& path,
                                                 const std::string& generator) {
  fs::path abs = fs::absolute(path).lexically_normal();
  auto source = ReadAsInput("candidate file", abs);
  if (!source) return Error(source.error());
  store::CandidateRecord record;
  record.path = abs.string();
  record.source = std::move(*source);
  record.sha256 = Sha256Hex(record.source);
  record.generator = generator;
  return record;
}

}  // namespace kswarm::supervisor
