#include "kswarm/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kswarm::config {
namespace {

using ::testing::ElementsAre;

TEST(ConfigTest, ReadsRunAgentsAndPrecision) {
  auto c = ParseConfig("[run]\nagents = [\"torch_compile\", \"cuda_graph\"]\nprecision = \"reduced\"\n"
                       "min_gain = 0.05\nrecipe_budget_s = 120\n",
                       "k.toml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  ASSERT_TRUE(c->run.agents.has_value());
  EXPECT_THAT(*c->run.agents, ElementsAre("torch_compile", "cuda_graph"));
  EXPECT_EQ(c->run.precision, "reduced");
  EXPECT_EQ(c->run.min_gain, 0.05);
  EXPECT_EQ(c->run.recipe_budget_s, 120);
}

TEST(ConfigTest, ExecutorTable) {
  auto c = ParseConfig("[executor]\nkind = \"slurm\"\nworkers = 4\npartition = \"gpu\"\n"
                       "account = \"lab\"\ntime_limit = \"2:00:00\"\ngpus_per_worker = 1\n"
                       "cpus_per_worker = 8\nsrun_args = [\"--qos=high\"]\nstart_timeout_s = 600\n",
                       "k.toml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->executor.kind, "slurm");
  EXPECT_EQ(c->executor.workers, 4);
  EXPECT_EQ(c->executor.partition, "gpu");
  EXPECT_EQ(c->executor.account, "lab");
  EXPECT_EQ(c->executor.time_limit, "2:00:00");
  EXPECT_EQ(c->executor.cpus_per_worker, 8);
  EXPECT_THAT(c->executor.srun_args, ElementsAre("--qos=high"));
  EXPECT_EQ(c->executor.start_timeout_s, 600);
  EXPECT_EQ(ParseConfig("", "k.toml")->executor.kind, "local");
  for (const char* bad : {"[executor]\nkind = \"k8s\"\n", "[executor]\nworkers = 0\n",
                          "[executor]\ncpus_per_worker = \"8\"\n",
                          "[executor]\nsrun_args = \"--qos=high\"\n",
                          "[executor]\nstart_timeout_s = 0\n"}) {
    auto e = ParseConfig(bad, "k.toml");
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_NE(e.error().message().find("k.toml: [executor]"), std::string::npos)
        << e.error().message();
  }
}

TEST(ConfigTest, EmptyFileMeansDefaults) {
  auto c = ParseConfig("", "k.toml");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->run.agents.has_value());
  EXPECT_FALSE(c->run.precision.has_value());
}

TEST(ConfigTest, ErrorsNameTheFileAndKey) {
  auto syntax = ParseConfig("[run\n", "k.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.error().message().find("k.toml:1"), std::string::npos)
      << syntax.error().message();
  auto type = ParseConfig("[run]\nagents = \"cuda_graph\"\n", "k.toml");
  ASSERT_FALSE(type.has_value());
  EXPECT_NE(type.error().message().find("[run] agents"), std::string::npos);
  auto value = ParseConfig("[run]\nprecision = \"fp8\"\n", "k.toml");
  ASSERT_FALSE(value.has_value());
  EXPECT_NE(value.error().message().find("precision"), std::string::npos);
  auto gain = ParseConfig("[run]\nmin_gain = -1\n", "k.toml");
  ASSERT_FALSE(gain.has_value());
  EXPECT_NE(gain.error().message().find("[run] min_gain"), std::string::npos);
  auto budget = ParseConfig("[run]\nrecipe_budget_s = 0\n", "k.toml");
  ASSERT_FALSE(budget.has_value());
  EXPECT_NE(budget.error().message().find("[run] recipe_budget_s"), std::string::npos);
}

TEST(ConfigTest, ModelsAndBudget) {
  auto c = ParseConfig(R"toml(
[[models]]
name = "gpt"
api = "openai"
model = "gpt-5"
key_env = "OPENAI_API_KEY"
reasoning_effort = "high"
usd_per_mtok_in = 1.25
usd_per_mtok_out = 10
attempts = 3

[[models]]
name = "local"
api = "openai-compatible"
model = "qwen"
base_url = "http://127.0.0.1:8000/v1"

[budget]
max_tokens = 2000000
max_usd = 25.5
)toml", "k.toml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  ASSERT_EQ(c->models.size(), 2u);
  EXPECT_EQ(c->models[0].name, "gpt");
  EXPECT_EQ(c->models[0].attempts, 3);
  EXPECT_DOUBLE_EQ(c->models[0].usd_per_mtok_out, 10);
  EXPECT_EQ(c->models[1].key_env, "");
  EXPECT_EQ(c->models[1].attempts, 5);
  EXPECT_EQ(c->budget.max_tokens, 2000000);
  EXPECT_DOUBLE_EQ(*c->budget.max_usd, 25.5);
  EXPECT_FALSE(c->budget.max_wall_s.has_value());

  for (const char* bad : {"[[models]]\nname = \"a\"\napi = \"bard\"\nmodel = \"m\"\n",
                          "[[models]]\nname = \"a\"\napi = \"openai\"\n",
                          "[[models]]\nname = \"a\"\napi = \"openai\"\nmodel = \"m\"\n"
                          "attempts = 0\n",
                          "[[models]]\nname = \"a\"\napi = \"openai\"\nmodel = \"m\"\n"
                          "[[models]]\nname = \"a\"\napi = \"openai\"\nmodel = \"n\"\n",
                          "[budget]\nmax_usd = -3\n"}) {
    auto r = ParseConfig(bad, "k.toml");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("k.toml"), std::string::npos);
  }
}

TEST(ConfigTest, ContextConfigurationsPerModel) {
  auto c = ParseConfig(R"toml(
[context]
reference = "refs/"
inductor = false

[[models]]
name = "gpt"
api = "openai"
model = "gpt-5"
contexts = ["none", "reference", "profile", "both"]
profile_helper = "mini"
max_tokens = 100000
max_usd = 2.5

[[models]]
name = "mini"
api = "openai"
model = "gpt-5-mini"
)toml", "k.toml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->context.reference, "refs/");
  EXPECT_FALSE(c->context.inductor);
  EXPECT_EQ(c->models[0].contexts,
            (std::vector<std::string>{"none", "reference", "profile", "both"}));
  EXPECT_EQ(c->models[0].profile_helper, "mini");
  EXPECT_EQ(c->models[0].max_tokens, 100000);
  EXPECT_DOUBLE_EQ(*c->models[0].max_usd, 2.5);
  EXPECT_EQ(c->models[1].contexts, std::vector<std::string>{"none"});  // the default
  EXPECT_TRUE(ParseConfig("", "k.toml")->context.inductor);

  const std::string head = "[[models]]\nname = \"a\"\napi = \"openai\"\nmodel = \"m\"\n";
  for (const std::string& bad :
       {head + "contexts = [\"all\"]\n", head + "contexts = []\n",
        head + "contexts = [\"none\", \"none\"]\n", head + "profile_helper = \"nobody\"\n",
        head + "max_usd = 0\n", std::string("[context]\ninductor = \"yes\"\n")}) {
    auto r = ParseConfig(bad, "k.toml");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("k.toml"), std::string::npos);
  }
}

TEST(ConfigTest, MissingExplicitFileIsBadInput) {
  auto c = LoadConfig("/nonexistent/kswarm.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kswarm::config
