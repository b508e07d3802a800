// The live progress of `kswarm run`: one rewritten status line on a terminal, plain lines
// otherwise (a pipe, a log file, TERM=dumb). Colour only on a terminal and never with NO_COLOR.
#pragma once

#include <cstdio>
#include <string>

#include "kswarm/supervisor/suite.h"

namespace kswarm::cli {

class Progress {
 public:
  // Decides the style from `out` (isatty), TERM and NO_COLOR.
  explicit Progress(std::FILE* out);
  Progress(std::FILE* out, bool smart_terminal, bool color);

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
  int finished_here_ = 0;  // problems finished by this invocation, for the ETA
  double first_elapsed_s_ = -1;
};

}  // namespace kswarm::cli
