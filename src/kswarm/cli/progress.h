// The live progress of `kswarm run`: one rewritten status line on a terminal, plain lines
// otherwise (a pipe, a log file, TERM=dumb). Colour only on a terminal and never with NO_COLOR.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/supervisor/suite.h"

namespace kswarm::cli {

// What the estimate of a run's time left is made from.
struct EtaInput {
  std::map<int, std::vector<double>> finished_s;   // level -> seconds of each finished problem
  std::vector<int> waiting;                        // levels of the problems not started yet
  std::vector<std::pair<int, double>> running;     // (level, seconds so far) of those started
  int workers = 1;                                 // problems worked on at once
};

// How much longer a level's problem takes than one of the level below, when no problem of the
// level has finished yet (whole models against fused operators against single operators).
inline constexpr double kLevelStep = 1.6;

// Seconds left, or nullopt before any problem has finished. Each problem is expected to take the
// mean of its level's finished ones; a level with none finished takes the nearest finished level
// below (else above) times kLevelStep per level between them. Problems running count what they
// have left of that; the total is shared among the workers.
std::optional<double> EstimateSecondsLeft(const EtaInput& input);

class Progress {
 public:
  // Decides the style from `out` (isatty), TERM and NO_COLOR. `levels` holds each problem's
  // level by position (0: none), for the estimate of the time left.
  Progress(std::FILE* out, std::vector<int> levels, int workers = 1);
  Progress(std::FILE* out, bool smart_terminal, bool color, std::vector<int> levels = {},
           int workers = 1);

  void Update(const supervisor::ProgressEvent& event);
  // Ends a rewritten line so later output starts on a fresh one.
  void Finish();

 private:
  std::string Paint(const std::string& text, const char* code) const;
  void Print(const std::string& line, bool transient);

  std::FILE* out_;
  bool smart_ = false;
  bool color_ = false;
  bool line_open_ = false;
  std::optional<std::string> Eta(double elapsed_s) const;

  std::vector<int> levels_;
  int workers_ = 1;
  std::map<int, double> started_s_;               // position -> when it started, while running
  std::map<int, std::vector<double>> finished_s_;  // level -> seconds, this invocation
  int highest_started_ = -1;
};

}  // namespace kswarm::cli
