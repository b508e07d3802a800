#include "kswarm/agents/agent.h"

#include <gtest/gtest.h>

namespace kswarm::agents {
namespace {

TEST(ContextTest, NamesAndParsesEveryConfiguration) {
  for (const char* name : {"none", "reference", "profile", "both"}) {
    auto context = ParseContext(name);
    ASSERT_TRUE(context.has_value()) << name;
    EXPECT_EQ(ContextName(*context), name);
  }
  EXPECT_FALSE(ParseContext("reference")->profile);
  EXPECT_TRUE(ParseContext("reference")->reference);
  EXPECT_TRUE(ParseContext("profile")->profile);
  EXPECT_FALSE(ParseContext("profile")->reference);
  EXPECT_EQ(ContextName(ContextConfig{}), "none");
  for (const char* bad : {"", "all", "Both", "reference+profile"}) {
    EXPECT_FALSE(ParseContext(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace kswarm::agents
