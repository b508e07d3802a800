#include "kswarm/cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

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

TEST(EstimateSecondsLeftTest, Table) {
  struct Case {
    const char* what;
    EtaInput input;
    std::optional<double> want;
  };
  const double step = kLevelStep;
  std::vector<Case> cases = {
      {"nothing finished yet", {{}, {1, 1}, {}, 1}, std::nullopt},
      {"same level: its mean", {{{1, {10, 20}}}, {1, 1, 1}, {}, 1}, 45.0},
      {"a level not seen yet takes longer", {{{1, {10}}}, {1, 2, 3}, {}, 1},
       10 + 10 * step + 10 * step * step},
      {"the nearest level below", {{{1, {10}}, {2, {30}}}, {3}, {}, 1}, 30 * step},
      {"only a higher level finished", {{{2, {20}}}, {1}, {}, 1}, 20 / step},
      {"running problems count what they have left", {{{1, {10}}}, {}, {{1, 4}, {1, 15}}, 1},
       6.0},
      {"shared among workers", {{{1, {10}}}, {1, 1, 1, 1}, {}, 2}, 20.0},
      {"no level is a level of its own (0)", {{{0, {5}}}, {0, 0}, {}, 1}, 10.0},
  };
  for (const Case& c : cases) {
    auto got = EstimateSecondsLeft(c.input);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.what;
    if (got) EXPECT_NEAR(*got, *c.want, 1e-9) << c.what;
  }
}

TEST(ProgressTest, TheEtaGrowsWhenTheSlowerLevelsAreStillAhead) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  Progress p(out, false, false, {1, 3}, 1);
  supervisor::ProgressEvent e;
  e.total = 2;
  e.problem = "a";
  e.kind = supervisor::ProgressEvent::Kind::kProblemStart;
  p.Update(e);
  e.elapsed_s = 10;
  e.kind = supervisor::ProgressEvent::Kind::kProblemDone;
  p.Update(e);
  e.index = 1;
  e.kind = supervisor::ProgressEvent::Kind::kProblemStart;
  p.Update(e);
  e.elapsed_s = 11;
  e.kind = supervisor::ProgressEvent::Kind::kCandidate;
  e.outcome = "passed";
  p.Update(e);
  std::fclose(out);
  std::string text(buf, size);
  std::free(buf);
  // The level-3 problem is expected to take 10 s x kLevelStep^2, 1 s of it spent.
  EXPECT_NE(text.find(fmt::format("ETA {}s", static_cast<int>(10 * kLevelStep * kLevelStep - 1 +
                                                             0.5))),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace kswarm::cli
