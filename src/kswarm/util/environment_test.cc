#include "kswarm/util/environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kswarm {
namespace {

using ::testing::ElementsAre;

TEST(EnvironmentTest, SecretNamesAreRecognisedInAnyCase) {
  EXPECT_TRUE(IsSecretName("OPENAI_API_KEY"));
  EXPECT_TRUE(IsSecretName("hf_token"));
  EXPECT_TRUE(IsSecretName("AWS_SECRET_ACCESS_KEY"));
  EXPECT_TRUE(IsSecretName("PGPASSWORD"));
  EXPECT_TRUE(IsSecretName("Anthropic_Api_Key"));
  EXPECT_FALSE(IsSecretName("PATH"));
  EXPECT_FALSE(IsSecretName("CUDA_VISIBLE_DEVICES"));
}

TEST(EnvironmentTest, ScrubDropsSecretsAndAppliesOverrides) {
  const char* env[] = {"PATH=/bin", "OPENAI_API_KEY=sk-1", "HOME=/root", "GH_TOKEN=x",
                       "PYTHONPATH=/old", nullptr};
  auto out = ScrubbedEnvironment(env, {"PYTHONPATH=/new", "MY_SECRET=leak"});
  EXPECT_THAT(out, ElementsAre("PATH=/bin", "HOME=/root", "PYTHONPATH=/new"));
}

TEST(EnvironmentTest, TheLaterOfTwoOverridesWins) {
  const char* env[] = {"PATH=/bin", "CACHE=/env", nullptr};
  auto out = ScrubbedEnvironment(env, {"CACHE=/default", "X=1", "CACHE=/chosen"});
  EXPECT_THAT(out, ElementsAre("PATH=/bin", "X=1", "CACHE=/chosen"));
}

}  // namespace
}  // namespace kswarm
