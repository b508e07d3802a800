#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kswarm/report/export.h"
#include "kswarm/report/html.h"
#include "kswarm/report/render.h"
#include "kswarm/report/summary.h"
#include "kswarm/util/files.h"

namespace kswarm::report {
namespace {

namespace fs = std::filesystem;

// A run of three problems and two agents with fixed timings, written through the store.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("kswarm_report_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    store_ = std::move(store::Store::Open((dir_ / "kswarm.db").string()).value());
    run_ = store_->CreateRun("golden", "run", R"({"precision":"fp32","min_gain":0.01})").value();
    // level 1: torch_compile 2x, cuda_graph 3x (kept)
    int64_t p1 = Problem("01_matmul", 1);
    int64_t c1 = Eval(p1, "torch_compile", core::Outcome::kPassed, 4.0, 2.0);
    int64_t g1 = Eval(p1, "cuda_graph", core::Outcome::kPassed, 4.0, 1.3333333);
    Eval(p1, "cuda_graph", core::Outcome::kPassed, 4.0, 1.35, "", "recheck");
    Verdict(p1, 0, g1, c1, 4.0, 2.0, 1.3333333);
    // level 2: torch_compile slower than eager, cuda_graph wrong: eager kept
    int64_t p2 = Problem("01_linear_gelu", 2);
    int64_t c2 = Eval(p2, "torch_compile", core::Outcome::kPassed, 1.0, 1.25);
    Eval(p2, "cuda_graph", core::Outcome::kWrong, 0, 0);
    Verdict(p2, 1, std::nullopt, c2, 1.0, 1.25, 1.0);
    // level 2: a 20x outlier from torch_compile
    int64_t p3 = Problem("02_conv_relu", 2);
    int64_t c3 = Eval(p3, "torch_compile", core::Outcome::kPassed, 10.0, 0.5);
    Verdict(p3, 2, c3, c3, 10.0, 0.5, 0.5);
    ASSERT_TRUE(store_->FinishRun(run_, "finished").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  int64_t Problem(const std::string& name, int level) {
    store::ProblemRecord p{name, "/suite/level" + std::to_string(level) + "/" + name + ".py",
                           level, name, Sha256Hex(name)};
    return store_->UpsertProblem(p).value();
  }

  int64_t Eval(int64_t problem, const std::string& agent, core::Outcome outcome, double eager_ms,
               double cand_ms, const std::string& flags_json = "",
               const std::string& purpose = "candidate", std::string source = "") {
    if (source.empty()) source = agent + std::to_string(problem);
    store::CandidateRecord c{problem, source, Sha256Hex(source), agent, ""};
    store::EvaluationRecord r;
    r.run_id = run_;
    r.problem_id = problem;
    r.candidate_id = store_->UpsertCandidate(c).value();
    r.environment.device_type = "cuda";
    r.environment.device_name = "NVIDIA H100 80GB HBM3";
    r.environment.torch_version = "2.11.0+cu130";
    r.environment.cuda_version = "13.0";
    r.environment.driver = "580.159.04";
    r.cache_key = source;
    r.purpose = purpose;
    r.evaluation.outcome = outcome;
    r.evaluation.flags_json = flags_json;
    if (outcome == core::Outcome::kPassed) {
      r.evaluation.baseline = core::TimingStats{eager_ms, 0.01, eager_ms, 100};
      r.evaluation.candidate = core::TimingStats{cand_ms, 0.01, cand_ms, 100};
    }
    return store_->RecordEvaluation(r).value();
  }

  void Verdict(int64_t problem, int position, std::optional<int64_t> best, int64_t compile,
               double eager_ms, double compile_ms, double best_ms) {
    store::RunProblemRecord v;
    v.run_id = run_;
    v.problem_id = problem;
    v.position = position;
    v.status = "done";
    v.best_evaluation_id = best;
    v.compile_evaluation_id = compile;
    v.eager_ms = eager_ms;
    v.compile_ms = compile_ms;
    v.best_ms = best_ms;
    v.speedup = std::max(1.0, eager_ms / best_ms);
    v.speedup_vs_compile = std::max(1.0, compile_ms / best_ms);
    ASSERT_TRUE(store_->PutRunProblem(v).ok());
  }

  static std::string RuntimeDir() { return std::string(std::getenv("KSWARM_SOURCE_DIR")) + "/python"; }

  RunSummary Summary() {
    auto run = store_->FindRun("golden").value();
    auto s = Summarize(*store_, *run);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return *s;
  }

  // Compares with testdata/report/<name>; KSWARM_UPDATE_GOLDEN=1 rewrites the file instead.
  static void ExpectGolden(const std::string& name, const std::string& actual) {
    fs::path path = fs::path(std::getenv("KSWARM_SOURCE_DIR")) / "testdata" / "report" / name;
    if (std::getenv("KSWARM_UPDATE_GOLDEN")) {
      fs::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << actual;
    }
    auto expected = ReadFile(path.string());
    ASSERT_TRUE(expected.has_value()) << expected.error().ToString();
    EXPECT_EQ(actual, *expected) << "golden file " << path << " differs";
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  int64_t run_ = 0;
};

TEST_F(ReportTest, SelectionSaysWhatTheRunComparedAndOlderRunsKeepTheirRule) {
  EXPECT_EQ(Summary().selection, "kept when >= 1% faster than eager, timing quartiles apart");
  auto run = store_->CreateRun("now", "run", R"({"min_gain":0.03,"selection":"fastest_calls"})");
  ASSERT_TRUE(run.has_value());
  auto s = Summarize(*store_, *store_->FindRun("now").value());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->selection, "kept when the fastest calls are >= 3% faster than eager's");
}

TEST_F(ReportTest, ContextConfigurationsGetGeomeansAndTheBestByLevel) {
  // A run of its own: one model as four members, over the fixture's three problems.
  run_ = store_->CreateRun("contexts", "run", R"({"members": [
      {"agent": "m", "model": "m", "context": "none"},
      {"agent": "m+reference", "model": "m", "context": "reference"},
      {"agent": "m+profile", "model": "m", "context": "profile"},
      {"agent": "m+both", "model": "m", "context": "both"}]})").value();
  int64_t p1 = Problem("01_matmul", 1), p2 = Problem("01_linear_gelu", 2),
          p3 = Problem("02_conv_relu", 2);
  int64_t r1 = Eval(p1, "m+reference", core::Outcome::kPassed, 4.0, 2.0, "", "candidate", "r1");
  Eval(p1, "m", core::Outcome::kPassed, 4.0, 3.0, "", "candidate", "n1");  // 1.33x
  Eval(p1, "m+profile", core::Outcome::kWrong, 0, 0, "", "candidate", "p1");
  Verdict(p1, 0, r1, r1, 4.0, 2.0, 2.0);
  int64_t b2 = Eval(p2, "m+both", core::Outcome::kPassed, 1.0, 0.25, "", "candidate", "b2");
  Eval(p2, "m+profile", core::Outcome::kPassed, 1.0, 0.5, "", "candidate", "f2");  // 2x
  Verdict(p2, 1, b2, b2, 1.0, 0.25, 0.25);
  int64_t n3 = Eval(p3, "m", core::Outcome::kPassed, 1.0, 2.0, "", "candidate", "n3");  // slower
  Verdict(p3, 2, std::nullopt, n3, 1.0, 2.0, 1.0);
  auto s = Summarize(*store_, *store_->FindRun("contexts").value());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->contexts, (std::vector<std::string>{"none", "reference", "profile", "both"}));
  EXPECT_NEAR(s->context_geomeans.at("none").at(1), 4.0 / 3.0, 1e-9);
  EXPECT_NEAR(s->context_geomeans.at("reference").at(1), 2.0, 1e-9);
  EXPECT_NEAR(s->context_geomeans.at("profile").at(2), std::sqrt(2.0), 1e-9);  // 2x and 1x
  EXPECT_NEAR(s->context_geomeans.at("both").at(2), 2.0, 1e-9);                // 4x and 1x
  EXPECT_NEAR(s->context_geomean_overall.at("both"), std::cbrt(4.0), 1e-9);
  EXPECT_EQ(s->best_context.at(1).at("reference"), 1);
  EXPECT_EQ(s->best_context.at(2).at("both"), 1);
  EXPECT_EQ(s->best_context.at(2).at("eager"), 1);
  std::string text = RenderText(*s);
  EXPECT_NE(text.find("best context configuration by level"), std::string::npos) << text;
  EXPECT_NE(text.find("level 2     none 0%  reference 0%  profile 0%  both 50%  eager 50%"),
            std::string::npos) << text;
  std::string json = RenderJson(*s);
  json.erase(std::remove_if(json.begin(), json.end(), ::isspace), json.end());
  EXPECT_NE(json.find(R"("best_by_level":{"1":{"reference":1})"), std::string::npos) << json;
  std::string html = RenderHtml(*s);
  EXPECT_NE(html.find("chart-best-context"), std::string::npos);
  EXPECT_EQ(Summary().contexts.size(), 0u);  // a run without LLM members has no such section
}

TEST_F(ReportTest, GeomeansAreFlooredAndPerLevel) {
  RunSummary s = Summary();
  // vs eager: 3x, 1x (floor), 20x
  EXPECT_NEAR(s.vs_eager.overall, std::cbrt(3.0 * 1.0 * 20.0), 1e-6);
  EXPECT_NEAR(s.vs_eager.by_level.at(1), 3.0, 1e-6);
  EXPECT_NEAR(s.vs_eager.by_level.at(2), std::sqrt(20.0), 1e-6);
  // vs torch.compile: 1.5x, 1.25x, 1x
  EXPECT_NEAR(s.vs_compile.overall, std::cbrt(1.5 * 1.25 * 1.0), 1e-6);
  EXPECT_NEAR(s.distribution.geomean_below_10x, std::sqrt(3.0), 1e-6);
  EXPECT_EQ(s.wins.at("cuda_graph"), 1);
  EXPECT_EQ(s.wins.at("eager"), 1);
  EXPECT_EQ(s.wins.at("torch_compile"), 1);
  EXPECT_EQ(s.agents.at("cuda_graph").at(2).incorrect, 1);
  EXPECT_EQ(s.agents.at("torch_compile").at(2).slower, 1);
  EXPECT_EQ(s.agents.at("torch_compile").at(2).faster, 1);
}

TEST_F(ReportTest, VerificationCountsChecksRechecksAndDegenerateProblems) {
  RunSummary s = Summary();
  EXPECT_EQ(s.verification.candidates, 5);  // the recheck is counted apart
  EXPECT_EQ(s.verification.outcomes.at("passed"), 4);
  EXPECT_EQ(s.verification.outcomes.at("wrong"), 1);
  EXPECT_EQ(s.verification.rechecked, 1);
  EXPECT_EQ(s.verification.recheck_failed, 0);
  EXPECT_TRUE(s.verification.degenerate.empty());

  // A problem where doing nothing passes: every candidate is flagged, eager is kept, and the
  // report gives the geomean without it too.
  int64_t p4 = Problem("03_tiny_mean", 2);
  int64_t t4 = Eval(p4, "torch_compile", core::Outcome::kPassed, 2.0, 1.0,
                    R"(["degenerate problem: zeros pass(es) its tolerance on every input distribution"])");
  Eval(p4, "cuda_graph", core::Outcome::kPassed, 2.0, 0.5,
       R"j(["static ctypes (suspicious)", "faster than the device allows: 0.5 ms"])j");
  Eval(p4, "cuda_graph", core::Outcome::kWrong, 0, 0, "", "recheck");
  Verdict(p4, 3, std::nullopt, t4, 2.0, 1.0, 2.0);
  s = Summary();
  EXPECT_EQ(s.verification.flagged_by.at("degenerate problem"), 1);
  EXPECT_EQ(s.verification.flagged_by.at("static check"), 1);
  EXPECT_EQ(s.verification.flagged_by.at("speed of light"), 1);
  EXPECT_EQ(s.verification.rechecked, 2);
  EXPECT_EQ(s.verification.recheck_failed, 1);
  EXPECT_EQ(s.verification.degenerate, std::vector<std::string>{"03_tiny_mean"});
  EXPECT_TRUE(s.problems.back().degenerate);
  EXPECT_NEAR(s.vs_eager.overall, std::pow(3.0 * 1.0 * 20.0 * 1.0, 0.25), 1e-6);
  EXPECT_NEAR(s.verification.vs_eager_without_degenerate.overall, std::cbrt(60.0), 1e-6);
  // Flagged candidates are not counted as correct.
  EXPECT_EQ(s.agents.at("torch_compile").at(2).faster, 1);  // 02_conv_relu only
  EXPECT_EQ(s.agents.at("cuda_graph").at(2).incorrect, 2);
  std::string text = RenderText(s);
  EXPECT_NE(text.find("degenerate problems (eager kept): 03_tiny_mean; geomean vs eager without "
                      "them 3.915x"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("flagged by: 1 degenerate problem, 1 speed of light, 1 static check"),
            std::string::npos)
      << text;

  // A winner whose recheck passes but is slower than eager is not kept: that recheck failed.
  int64_t p5 = Problem("04_noisy", 2);
  int64_t n5 = Eval(p5, "torch_compile", core::Outcome::kPassed, 2.0, 1.0);
  Eval(p5, "torch_compile", core::Outcome::kPassed, 2.0, 2.2, "", "recheck");
  Verdict(p5, 4, std::nullopt, n5, 2.0, 1.0, 2.0);
  s = Summary();
  EXPECT_EQ(s.verification.rechecked, 3);
  EXPECT_EQ(s.verification.recheck_failed, 2);

  // A near miss (0.99x) kept on two rechecks, the first of them the verdict's: one candidate
  // rechecked, none failed, and the winner is its agent.
  int64_t p6 = Problem("05_near_miss", 2);
  int64_t c6 = Eval(p6, "torch_compile", core::Outcome::kPassed, 2.0, 2.0 / 0.99);
  int64_t r6 = Eval(p6, "torch_compile", core::Outcome::kPassed, 2.0, 1.9, "", "recheck");
  Eval(p6, "torch_compile", core::Outcome::kPassed, 2.0, 1.95, "", "recheck");
  Verdict(p6, 5, r6, c6, 2.0, 2.0 / 0.99, 1.9);
  s = Summary();
  EXPECT_EQ(s.verification.rechecked, 4);
  EXPECT_EQ(s.verification.recheck_failed, 2);
  EXPECT_EQ(s.problems.back().winner, "torch_compile");
  EXPECT_EQ(s.wins.at("torch_compile"), 2);
}

TEST_F(ReportTest, TextJsonAndCsvMatchGoldenFiles) {
  RunSummary s = Summary();
  ExpectGolden("golden.txt", RenderText(s));
  ExpectGolden("golden.json", RenderJson(s));
  ExpectGolden("golden.csv", RenderCsv(s));
  ExpectGolden("golden.html", RenderHtml(s));
}

TEST_F(ReportTest, ExportWritesWinnersAndAManifest) {
  auto run = store_->FindRun("golden").value();
  fs::path out = dir_ / "export";
  auto result = ExportRun(*store_, *run, out.string(), RuntimeDir());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->modules, 2);
  EXPECT_EQ(result->kept_eager, 1);
  EXPECT_FALSE(result->runtime);  // no winner needs kswarm_rt
  EXPECT_FALSE(fs::exists(out / "kswarm_rt"));
  auto graph = ReadFile((out / "level1_01_matmul.py").string());
  ASSERT_TRUE(graph.has_value());
  EXPECT_EQ(*graph, "cuda_graph1");  // the kept candidate's source, verbatim
  EXPECT_TRUE(fs::exists(out / "level2_02_conv_relu.py"));
  EXPECT_FALSE(fs::exists(out / "level2_01_linear_gelu.py"));
  auto manifest = ReadFile((out / "manifest.json").string());
  ASSERT_TRUE(manifest.has_value());
  EXPECT_NE(manifest->find("\"kept\": \"eager\""), std::string::npos);
  EXPECT_NE(manifest->find("\"problem_sha256\": \"" + Sha256Hex("01_matmul") + "\""),
            std::string::npos);
  EXPECT_NE(manifest->find("\"device_name\": \"NVIDIA H100 80GB HBM3\""), std::string::npos);
}

TEST_F(ReportTest, ExportShipsKswarmRtWithAWinnerThatImportsIt) {
  run_ = store_->CreateRun("rt", "run", "{}").value();
  int64_t p = Problem("07_gelu", 1);
  int64_t c = Eval(p, "torch_compile", core::Outcome::kPassed, 1.0, 1.0);
  int64_t w = Eval(p, "llm", core::Outcome::kPassed, 1.0, 0.5, "", "candidate",
                   "import torch\nfrom kswarm_rt import kernel\nclass ModelNew: pass\n");
  Verdict(p, 0, w, c, 1.0, 1.0, 0.5);
  fs::path out = dir_ / "export_rt";
  auto result = ExportRun(*store_, *store_->FindRun("rt").value(), out.string(), RuntimeDir());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_TRUE(result->runtime);
  EXPECT_TRUE(fs::exists(out / "kswarm_rt" / "__init__.py"));
  EXPECT_TRUE(fs::exists(out / "kswarm_rt" / "_runtime.py"));
  EXPECT_NE(ReadFile((out / "manifest.json").string())->find("\"runtime\": \"kswarm_rt\""),
            std::string::npos);
  auto missing = ExportRun(*store_, *store_->FindRun("rt").value(), (dir_ / "x").string(),
                           (dir_ / "nowhere").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace kswarm::report
