#include "kswarm/util/cpus.h"

#include <gtest/gtest.h>

namespace kswarm {
namespace {

std::vector<int> Range(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i) v.push_back(i);
  return v;
}

std::vector<int> NoSmt(int cpu) { return {cpu}; }

// Two threads per core, numbered like Linux does on most x86 servers: cpu i and i + n/2.
std::function<std::vector<int>(int)> Smt(int n) {
  return [n](int cpu) { return std::vector<int>{cpu % (n / 2), cpu % (n / 2) + n / 2}; };
}

TEST(CpusTest, ParsesKernelCpuLists) {
  EXPECT_EQ(ParseCpuList("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(ParseCpuList("5\n"), (std::vector<int>{5}));
  EXPECT_EQ(ParseCpuList("3,1,1"), (std::vector<int>{1, 3}));
  EXPECT_FALSE(ParseCpuList("1-"));
  EXPECT_FALSE(ParseCpuList("a"));
  EXPECT_FALSE(ParseCpuList("4-2"));
  EXPECT_FALSE(ParseCpuList("2x"));
}

TEST(CpusTest, EachWorkerGetsItsOwnTimingCoreAndSharesTheRest) {
  auto plans = PlanTimingCpus(Range(16), 2, NoSmt);
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].timing_cpu, 15);
  EXPECT_EQ(plans[1].timing_cpu, 14);
  EXPECT_EQ(plans[0].others, Range(14));
  EXPECT_EQ(plans[1].others, Range(14));
}

TEST(CpusTest, TheSiblingsOfATimingCoreStayIdle) {
  auto plans = PlanTimingCpus(Range(16), 2, Smt(16));
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].timing_cpu, 15);  // core 7's second thread; 7 is left idle
  EXPECT_EQ(plans[1].timing_cpu, 14);  // core 6's; 6 idle
  std::vector<int> rest = {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13};
  EXPECT_EQ(plans[0].others, rest);
}

TEST(CpusTest, OnlyTheAllowedCoresAreUsed) {
  auto plans = PlanTimingCpus({2, 3, 4, 5, 6, 7}, 1, NoSmt);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].timing_cpu, 7);
  EXPECT_EQ(plans[0].others, (std::vector<int>{2, 3, 4, 5, 6}));
}

TEST(CpusTest, NothingIsPinnedWithoutCoresToSpare) {
  EXPECT_TRUE(PlanTimingCpus(Range(2), 1, NoSmt).empty());   // a 2-core machine
  EXPECT_TRUE(PlanTimingCpus(Range(5), 2, NoSmt).empty());   // fewer than 2 per worker + 2
  EXPECT_TRUE(PlanTimingCpus(Range(6), 2, Smt(6)).empty());  // siblings leave too few
  EXPECT_TRUE(PlanTimingCpus(Range(16), 0, NoSmt).empty());
}

TEST(CpusTest, ThisThreadCanBeRestrictedAndWidenedAgain) {
  std::vector<int> before = AllowedCpus();
  ASSERT_FALSE(before.empty());
  ASSERT_TRUE(RestrictThisThread({before.front()}).ok());
  EXPECT_EQ(AllowedCpus(), std::vector<int>{before.front()});
  ASSERT_TRUE(RestrictThisThread(before).ok());
  EXPECT_EQ(AllowedCpus(), before);
  EXPECT_EQ(CpuSiblings(before.front()).empty(), false);
}

}  // namespace
}  // namespace kswarm
