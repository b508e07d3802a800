#include "kswarm/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace kswarm::cli {
namespace {

std::string Duration(double s) {
  int total = static_cast<int>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

std::string Speedup(const std::optional<double>& s) {
  return s ? fmt::format("{:.2f}x", *s) : "-";
}

}  // namespace

std::optional<double> EstimateSecondsLeft(const EtaInput& input) {
  if (input.finished_s.empty()) return std::nullopt;
  std::map<int, double> mean;
  for (const auto& [level, seconds] : input.finished_s) {
    double sum = 0;
    for (double s : seconds) sum += s;
    mean[level] = sum / static_cast<double>(seconds.size());
  }
  auto expected = [&](int level) {
    auto at = mean.find(level);
    if (at != mean.end()) return at->second;
    auto above = mean.upper_bound(level);
    if (above == mean.begin()) {  // only levels above have finished
      return above->second * std::pow(kLevelStep, level - above->first);
    }
    auto below = std::prev(above);
    return below->second * std::pow(kLevelStep, level - below->first);
  };
  double left = 0;
  for (int level : input.waiting) left += expected(level);
  for (const auto& [level, so_far] : input.running) {
    left += std::max(0.0, expected(level) - so_far);
  }
  return left / std::max(1, input.workers);
}

Progress::Progress(std::FILE* out, std::vector<int> levels, int workers)
    : out_(out), levels_(std::move(levels)), workers_(workers) {
  const char* term = std::getenv("TERM");
  bool tty = ::isatty(::fileno(out)) != 0;
  smart_ = tty && !(term && std::strcmp(term, "dumb") == 0);
  const char* no_color = std::getenv("NO_COLOR");
  color_ = smart_ && !(no_color && *no_color);
}

Progress::Progress(std::FILE* out, bool smart_terminal, bool color, std::vector<int> levels,
                   int workers)
    : out_(out), smart_(smart_terminal), color_(color), levels_(std::move(levels)),
      workers_(workers) {}

std::optional<std::string> Progress::Eta(double elapsed_s) const {
  auto level = [&](int position) {
    return position >= 0 && position < static_cast<int>(levels_.size()) ? levels_[position] : 0;
  };
  EtaInput input;
  input.finished_s = finished_s_;
  input.workers = workers_;
  // Problems are taken in order: those after the last one started are waiting.
  for (int p = highest_started_ + 1; p < static_cast<int>(levels_.size()); ++p) {
    input.waiting.push_back(level(p));
  }
  for (const auto& [position, started] : started_s_) {
    input.running.emplace_back(level(position), elapsed_s - started);
  }
  auto left = EstimateSecondsLeft(input);
  if (!left) return std::nullopt;
  return Duration(*left);
}

std::string Progress::Paint(const std::string& text, const char* code) const {
  return color_ ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
}

void Progress::Print(const std::string& line, bool transient) {
  if (smart_) {
    std::fputs("\r\033[K", out_);
    std::fputs(line.c_str(), out_);
    if (!transient) std::fputs("\n", out_);
    line_open_ = transient;
  } else {
    std::fputs(line.c_str(), out_);
    std::fputs("\n", out_);
  }
  std::fflush(out_);
}

void Progress::Update(const supervisor::ProgressEvent& e) {
  using Kind = supervisor::ProgressEvent::Kind;
  std::string head = fmt::format("[{}/{}] {}", e.index + 1, e.total, e.problem);
  auto finish = [&] {
    auto started = started_s_.find(e.index);
    if (started == started_s_.end()) return;
    int level = e.index < static_cast<int>(levels_.size()) ? levels_[e.index] : 0;
    finished_s_[level].push_back(e.elapsed_s - started->second);
    started_s_.erase(started);
  };
  switch (e.kind) {
    case Kind::kProblemStart:
      started_s_[e.index] = e.elapsed_s;
      highest_started_ = std::max(highest_started_, e.index);
      if (smart_) Print(head + " ...", true);
      break;
    case Kind::kCandidate: {
      auto left = Eta(e.elapsed_s);
      std::string eta = left ? " · ETA " + *left : "";
      std::string outcome = e.outcome == "passed" ? Paint(Speedup(e.speedup), "32")
                                                  : Paint(e.outcome, "33");
      std::string line = fmt::format("{} · {} {}{} · best {} · {}{}", head, e.agent, outcome,
                                     e.cached ? " (recorded)" : "", Speedup(e.best_so_far),
                                     Duration(e.elapsed_s), eta);
      Print(line, smart_);
      break;
    }
    case Kind::kProblemDone:
      finish();
      Print(fmt::format("{} · kept {} · {}", head, e.agent,
                        Paint(fmt::format("{:.3f}x", e.speedup.value_or(1.0)), "1")),
            false);
      break;
    case Kind::kProblemSkipped:
      started_s_.erase(e.index);  // a skip says nothing about how long a problem takes
      highest_started_ = std::max(highest_started_, e.index);
      Print(fmt::format("{} · {}: {:.160}", head, Paint("skipped", "31"), e.message), false);
      break;
  }
}

void Progress::Finish() {
  if (line_open_) {
    std::fputs("\n", out_);
    line_open_ = false;
  }
}

}  // namespace kswarm::cli
