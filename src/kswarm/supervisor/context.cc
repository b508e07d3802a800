#include "kswarm/supervisor/context.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "kswarm/evaluator/tools.h"
#include "kswarm/util/environment.h"
#include "kswarm/util/files.h"

namespace kswarm::supervisor {
namespace {

namespace fs = std::filesystem;

// A folder's files, each under a line naming it, in name order.
Result<std::string> ReadFolder(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::string out;
  for (const fs::path& f : files) {
    auto text = ReadFile(f.string());
    if (!text) return Error(text.error());
    out += fmt::format("// ---- {} ----\n{}\n", fs::relative(f, dir).string(), *text);
  }
  return out;
}

}  // namespace

Status CheckSources(const ReferenceSources& sources) {
  std::error_code ec;
  if (!sources.user_path.empty() && !fs::exists(sources.user_path, ec)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("reference {}: no such file or folder", sources.user_path));
  }
  return Status::Ok();
}

Result<std::optional<agents::ReferenceContext>> UserReference(const std::string& user_path,
                                                              const std::string& problem_name) {
  using Found = std::optional<agents::ReferenceContext>;
  std::error_code ec;
  fs::path path(user_path);
  if (fs::is_regular_file(path, ec)) {
    auto text = ReadFile(path.string());
    if (!text) return Error(text.error());
    return Found(agents::ReferenceContext{
        fmt::format("{}, supplied by the user", path.filename().string()), *text});
  }
  if (!fs::is_directory(path, ec)) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("reference {}: no such file or folder", user_path));
  }
  std::vector<fs::path> matches;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (entry.path().stem().string() == problem_name) matches.push_back(entry.path());
  }
  if (matches.empty()) return Found();
  std::sort(matches.begin(), matches.end());
  const fs::path& match = matches.front();
  auto text = fs::is_directory(match, ec) ? ReadFolder(match) : ReadFile(match.string());
  if (!text) return Error(text.error());
  return Found(agents::ReferenceContext{
      fmt::format("{}, supplied by the user", match.filename().string()), *text});
}

Result<std::optional<agents::ReferenceContext>> FindReference(
    store::Store& store, const evaluator::WorkerConfig& worker, const ReferenceSources& sources,
    const ReferenceQuery& query) {
  using Found = std::optional<agents::ReferenceContext>;
  const store::ProblemRecord& problem = *query.problem;
  if (!sources.user_path.empty()) {
    auto user = UserReference(sources.user_path, problem.name);
    if (!user) return Error(user.error());
    if (user->has_value()) return user;
  }
  auto winner = store.BestWinnerOnOtherDevice(problem.source_sha256, query.device_type);
  if (!winner) return Error(winner.error());
  if (winner->has_value()) {
    const store::WinnerRecord& w = **winner;
    return Found(agents::ReferenceContext{
        fmt::format("the candidate kswarm kept for this problem on {} ({}, {:.2f}x faster than "
                    "eager there, run '{}')",
                    w.device_type, w.device_name, w.speedup, w.run_name),
        w.source});
  }
  if (!sources.inductor) return Found();

  std::string key = Sha256Hex(fmt::format("{}|{}|{}|{}|{}", problem.source_sha256,
                                          query.device_type, query.build_arch,
                                          query.torch_version, query.shapes));
  fs::path cached = fs::path(CacheDir()) / "references" / (key + ".txt");
  std::string origin = fmt::format("the code torch.compile (Inductor, torch {}) generates for "
                                   "this problem on {}",
                                   query.torch_version, query.device_type);
  if (auto text = ReadFile(cached.string())) return Found(agents::ReferenceContext{origin, *text});
  auto code = evaluator::InductorCode(worker, problem.path, query.device_type, query.shapes,
                                      query.timeout_s);
  if (!code) {
    if (code.error().code() == StatusCode::kInternal) return Error(code.error());
    return Found();  // torch.compile cannot compile it, or took too long: no reference
  }
  std::error_code ec;
  fs::create_directories(cached.parent_path(), ec);
  fs::path tmp = cached;
  tmp += fmt::format(".tmp{}", ::getpid());
  std::ofstream(tmp, std::ios::binary) << *code;
  fs::rename(tmp, cached, ec);
  return Found(agents::ReferenceContext{origin, *code});
}

}  // namespace kswarm::supervisor
