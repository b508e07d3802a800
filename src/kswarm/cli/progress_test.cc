#include "kswarm/cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace kswarm::cli {
namespace {

std::string Render(bool smart, bool color) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  Progress p(out, smart, color);
  supervisor::ProgressEvent e;
  e.index = 0;
  e.total = 2;
  e.problem = "07_gelu";
  e.kind = supervisor::ProgressEvent::Kind::kProblemStart;
  p.Update(e);
  e.kind = supervisor::ProgressEvent::Kind::kCandidate;
  e.agent = "torch_compile";
  e.outcome = "passed";
  e.speedup = 1.5;
  e.best_so_far = 1.5;
  p.Update(e);
  e.kind = supervisor::ProgressEvent::Kind::kProblemDone;
  p.Update(e);
  p.Finish();
  std::fclose(out);
  std::string text(buf, size);
  std::free(buf);
  return text;
}

TEST(ProgressTest, PlainLinesWhenNotATerminal) {
  std::string text = Render(/*smart=*/false, /*color=*/false);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\033'), std::string::npos);
  EXPECT_NE(text.find("[1/2] 07_gelu · torch_compile 1.50x · best 1.50x"), std::string::npos)
      << text;
  EXPECT_NE(text.find("kept torch_compile · 1.500x\n"), std::string::npos) << text;
}

TEST(ProgressTest, RewritesOneLineOnATerminalAndColoursOnlyWhenAllowed) {
  std::string smart = Render(/*smart=*/true, /*color=*/false);
  EXPECT_NE(smart.find("\r\033[K"), std::string::npos);
  EXPECT_EQ(smart.find("\033[3"), std::string::npos);  // no colour codes
  std::string color = Render(/*smart=*/true, /*color=*/true);
  EXPECT_NE(color.find("\033[32m"), std::string::npos);
}

}  // namespace
}  // namespace kswarm::cli
