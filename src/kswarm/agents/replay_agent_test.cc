#include "kswarm/agents/replay_agent.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kswarm::agents {
namespace {

namespace fs = std::filesystem;

class ReplayAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("kswarm_replay_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  fs::path dir_;
};

AgentRequest Request(const std::string& name, std::optional<int> level, int attempts_before) {
  AgentRequest r;
  r.problem.name = name;
  r.problem.level = level;
  for (int i = 0; i < attempts_before; ++i) r.history.push_back(Attempt{});
  return r;
}

std::string Proposed(Agent& agent, const AgentRequest& request) {
  auto p = agent.Propose(request);
  EXPECT_TRUE(p.has_value());
  return p && p->has_value() ? (*p)->source : "<none>";
}

TEST_F(ReplayAgentTest, JsonlGivesEachGeneratorItsAttemptsInRecordedOrder) {
  Write(dir_ / "past.jsonl",
        R"({"problem": "07_gelu", "level": 1, "generator": "model-a", "code": "a1"})" "\n"
        R"({"problem": "07_gelu", "level": 1, "generator": "model-b", "code": "b1"})" "\n"
        "\n"
        R"({"problem": "07_gelu.py", "level": 1, "generator": "model-a", "code": "a2"})" "\n"
        R"({"problem": 3, "level": 2, "generator": "model-a", "code": "a-l2p3"})" "\n");
  auto recorded = LoadRecorded((dir_ / "past.jsonl").string());
  ASSERT_TRUE(recorded.has_value()) << recorded.error().ToString();
  ASSERT_EQ(recorded->size(), 4u);
  auto agents = MakeReplayAgents(std::move(*recorded));
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0]->name(), "model-a");
  EXPECT_EQ(agents[1]->name(), "model-b");
  EXPECT_EQ(agents[0]->max_attempts(), 2);

  EXPECT_EQ(Proposed(*agents[0], Request("07_gelu", 1, 0)), "a1");
  EXPECT_EQ(Proposed(*agents[0], Request("07_gelu", 1, 1)), "a2");
  EXPECT_EQ(Proposed(*agents[0], Request("07_gelu", 1, 2)), "<none>");
  EXPECT_EQ(Proposed(*agents[1], Request("07_gelu", 1, 0)), "b1");
  EXPECT_EQ(Proposed(*agents[0], Request("07_gelu", 2, 0)), "<none>");  // other level
  EXPECT_EQ(Proposed(*agents[0], Request("03_conv_relu", 2, 0)), "a-l2p3");
  EXPECT_EQ(Proposed(*agents[0], Request("13_other", 2, 0)), "<none>");
}

TEST_F(ReplayAgentTest, KernelBenchFolderNamesTheGeneratorAfterTheFolder) {
  fs::path run = dir_ / "gpt-run";
  Write(run / "level_1_problem_7_sample_0_kernel.py", "s0");
  Write(run / "level_1_problem_7_sample_1_kernel.py", "s1");
  Write(run / "level_2_problem_7_sample_0_kernel.py", "l2");
  Write(run / "notes.txt", "ignored");
  auto recorded = LoadRecorded(run.string() + "/");
  ASSERT_TRUE(recorded.has_value()) << recorded.error().ToString();
  auto agents = MakeReplayAgents(std::move(*recorded));
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0]->name(), "gpt-run");
  EXPECT_EQ(Proposed(*agents[0], Request("07_gelu", 1, 0)), "s0");
  EXPECT_EQ(Proposed(*agents[0], Request("07_gelu", 1, 1)), "s1");
  EXPECT_EQ(Proposed(*agents[0], Request("7_gelu", 2, 0)), "l2");
  EXPECT_EQ(Proposed(*agents[0], Request("gelu", 1, 0)), "<none>");
  EXPECT_EQ(Proposed(*agents[0], Request("70_other", 1, 0)), "<none>");
}

TEST_F(ReplayAgentTest, BadRecordsAreBadInputNamingTheLine) {
  Write(dir_ / "bad.jsonl", R"({"problem": "p", "code": "x"})" "\n" R"({"problem": "p"})" "\n");
  auto bad = LoadRecorded((dir_ / "bad.jsonl").string());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("bad.jsonl:2"), std::string::npos) << bad.error().message();

  Write(dir_ / "junk.jsonl", "not json\n");
  EXPECT_FALSE(LoadRecorded((dir_ / "junk.jsonl").string()).has_value());
  fs::create_directories(dir_ / "empty");
  EXPECT_FALSE(LoadRecorded((dir_ / "empty").string()).has_value());
  EXPECT_FALSE(LoadRecorded((dir_ / "missing").string()).has_value());

  // A generator defaults to the file's stem.
  Write(dir_ / "old-run.jsonl", R"({"problem": "p", "level": null, "code": "x"})" "\n");
  auto ok = LoadRecorded((dir_ / "old-run.jsonl").string());
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)[0].generator, "old-run");
}

}  // namespace
}  // namespace kswarm::agents
