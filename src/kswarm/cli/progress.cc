#include "kswarm/cli/progress.h"

#include <unistd.h>

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

Progress::Progress(std::FILE* out) : out_(out) {
  const char* term = std::getenv("TERM");
  bool tty = ::isatty(::fileno(out)) != 0;
  smart_ = tty && !(term && std::strcmp(term, "dumb") == 0);
  const char* no_color = std::getenv("NO_COLOR");
  color_ = smart_ && !(no_color && *no_color);
}

Progress::Progress(std::FILE* out, bool smart_terminal, bool color)
    : out_(out), smart_(smart_terminal), color_(color) {}

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
  if (first_elapsed_s_ < 0) first_elapsed_s_ = e.elapsed_s;
  std::string head = fmt::format("[{}/{}] {}", e.index + 1, e.total, e.problem);
  switch (e.kind) {
    case Kind::kProblemStart:
      if (smart_) Print(head + " ...", true);
      break;
    case Kind::kCandidate: {
      double per_problem =
          finished_here_ ? (e.elapsed_s - first_elapsed_s_) / finished_here_ : 0;
      std::string eta = finished_here_ ? " · ETA " + Duration(per_problem * (e.total - e.index))
                                       : "";
      std::string outcome = e.outcome == "passed" ? Paint(Speedup(e.speedup), "32")
                                                  : Paint(e.outcome, "33");
      std::string line = fmt::format("{} · {} {}{} · best {} · {}{}", head, e.agent, outcome,
                                     e.cached ? " (recorded)" : "", Speedup(e.best_so_far),
                                     Duration(e.elapsed_s), eta);
      Print(line, smart_);
      break;
    }
    case Kind::kProblemDone:
      ++finished_here_;
      Print(fmt::format("{} · kept {} · {}", head, e.agent,
                        Paint(fmt::format("{:.3f}x", e.speedup.value_or(1.0)), "1")),
            false);
      break;
    case Kind::kProblemSkipped:
      ++finished_here_;
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
