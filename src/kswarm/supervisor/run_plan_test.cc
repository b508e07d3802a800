#include "kswarm/supervisor/run_plan.h"

#include <gtest/gtest.h>

namespace kswarm::supervisor {
namespace {

TEST(RunPlanTest, EveryFieldComesBackAsItWasStored) {
  RunPlan p;
  p.paths = {"problems/level1", "extra.py"};
  p.device = "cuda";
  p.agents = {"torch_compile", "cuda_graph"};
  p.replay = {"old.jsonl"};
  p.models = {"gpt"};
  p.members = {{"gpt", "gpt", "none"}, {"gpt+profile", "gpt", "profile"}};
  p.precision = "reduced";
  p.trials = 7;
  p.tolerance = "strict";
  p.shapes = "large";
  p.timeout_s = 42.5;
  p.static_check = "report";
  p.reference = "refs/";
  p.optimize_dir = "/work/resnet50_kswarm";
  p.budget.tokens = 1000;
  p.budget.wall_s = 60;
  p.min_gain = 0.03;
  p.selection = "fastest_calls";
  p.recipe_budget_s = 90;
  VerdictRule rule;
  rule.min_gain = 0.03;
  rule.max_fresh = 5;
  p.verdict = rule;

  auto back = ParseRunPlan(RunPlanJson(p));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->paths, p.paths);
  EXPECT_EQ(back->device, "cuda");
  EXPECT_EQ(back->agents, p.agents);
  EXPECT_EQ(back->replay, p.replay);
  EXPECT_EQ(back->models, p.models);
  ASSERT_EQ(back->members.size(), 2u);
  EXPECT_EQ(back->members[1].agent, "gpt+profile");
  EXPECT_EQ(back->members[1].context, "profile");
  EXPECT_EQ(back->precision, "reduced");
  EXPECT_EQ(back->trials, 7);
  EXPECT_EQ(back->tolerance, "strict");
  EXPECT_EQ(back->shapes, "large");
  EXPECT_EQ(back->timeout_s, 42.5);
  EXPECT_EQ(back->static_check, "report");
  EXPECT_EQ(back->reference, "refs/");
  EXPECT_EQ(back->optimize_dir, "/work/resnet50_kswarm");
  EXPECT_EQ(back->budget.tokens, 1000);
  EXPECT_FALSE(back->budget.usd.has_value());
  EXPECT_EQ(back->budget.wall_s, 60);
  EXPECT_EQ(back->min_gain, 0.03);
  EXPECT_EQ(back->selection, "fastest_calls");
  EXPECT_EQ(back->recipe_budget_s, 90);
  ASSERT_TRUE(back->verdict.has_value());
  EXPECT_EQ(back->verdict->max_fresh, 5);
  EXPECT_EQ(back->verdict->min_gain, 0.03);
}

TEST(RunPlanTest, OlderRunsReadWithTheRulesOfTheirTime) {
  // Version-1 runs stored only their settings: no minimum gain, no selection, no verdict rule.
  auto old = ParseRunPlan(R"({"device": "cpu", "agents": ["torch_compile"], "trials": 100})");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->min_gain, 0);
  EXPECT_EQ(old->selection, "");
  EXPECT_EQ(old->recipe_budget_s, 0);
  EXPECT_FALSE(old->verdict.has_value());
  EXPECT_FALSE(old->budget.tokens || old->budget.usd || old->budget.wall_s);
  EXPECT_TRUE(old->members.empty());
  EXPECT_EQ(old->shapes, "");
  EXPECT_EQ(old->optimize_dir, "");  // a kswarm run
}

TEST(RunPlanTest, DamageIsNamed) {
  struct Case {
    const char* json;
    const char* names;
  };
  const Case cases[] = {
      {"[]", "not a JSON object"},
      {"{", "not a JSON object"},
      {R"({"trials": "many"})", "\"trials\""},
      {R"({"agents": "torch_compile"})", "\"agents\""},
      {R"({"members": [{"agent": 3}]})", "\"members\""},
      {R"({"budget": {"max_usd": "ten"}})", "\"budget\""},
      {R"({"verdict": {"z": "wide"}})", "\"verdict\""},
      {R"({"optimize_dir": 3})", "\"optimize_dir\""},
  };
  for (const Case& c : cases) {
    auto plan = ParseRunPlan(c.json);
    ASSERT_FALSE(plan.has_value()) << c.json;
    EXPECT_EQ(plan.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(plan.error().message().find(c.names), std::string::npos)
        << c.json << ": " << plan.error().message();
  }
}

}  // namespace
}  // namespace kswarm::supervisor
