// Drives a real CPU worker: problems whose reference is slow on purpose, so the supervisor's
// choice between fast, slow and wrong candidates does not depend on timing noise.
#include "kswarm/supervisor/suite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "testing/fake_agent.h"

namespace kswarm::supervisor {
namespace {

namespace fs = std::filesystem;

// forward sleeps `delay_s`; the candidates below sleep less, more, or compute something else.
std::string SlowProblem(double delay_s) {
  return fmt::format(R"py(import time
import torch
import torch.nn as nn

n = 16

class Model(nn.Module):
    def forward(self, x):
        time.sleep({})
        return x * 2.0

def get_inputs():
    return [torch.randn(n)]

def get_init_inputs():
    return []
)py",
                     delay_s);
}

std::string Candidate(double delay_s, const char* expr = "x * 2.0") {
  return fmt::format(
      "import time\nimport torch.nn as nn\nclass ModelNew(nn.Module):\n"
      "    def forward(self, x):\n        time.sleep({})\n        return {}\n",
      delay_s, expr);
}

// A metered agent, as an LLM agent is: each proposal takes a while and costs tokens; the test sees
// how many proposals were in flight at once.
class MeteredAgent : public agents::Agent {
 public:
  MeteredAgent(std::string name, std::vector<std::string> sources, std::atomic<int>* in_flight,
               std::atomic<int>* peak)
      : name_(std::move(name)), sources_(std::move(sources)), in_flight_(in_flight), peak_(peak) {}
  std::string name() const override { return name_; }
  int max_attempts() const override { return static_cast<int>(sources_.size()); }
  bool metered() const override { return true; }
  agents::MemberBudget budget() const override { return budget_; }
  agents::MemberBudget budget_;
  Result<std::optional<agents::Proposal>> Propose(const agents::AgentRequest& request) override {
    int now = ++*in_flight_;
    int seen = peak_->load();
    while (now > seen && !peak_->compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    --*in_flight_;
    agents::CallRecord call;
    call.model = "m-1";
    call.request_json = "{}";
    call.reply = "reply";
    call.tokens_in = 600;
    call.tokens_out = 400;
    call.cost_usd = 0.01;
    return std::optional<agents::Proposal>(
        agents::Proposal{sources_.at(request.history.size()), call});
  }

 private:
  std::string name_;
  std::vector<std::string> sources_;
  std::atomic<int>* in_flight_;
  std::atomic<int>* peak_;
};

class SuiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("kswarm_suite_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "level2");
    store_ = std::move(store::Store::Open((dir_ / "kswarm.db").string()).value());
    evaluator::WorkerConfig config = evaluator::DefaultWorkerConfig();
    config.device = "cpu";
    // Candidates may write the test's folder: counting their imports there is how some tell
    // the test which process they ran in.
    config.extra_env.push_back("KSWARM_JAIL_WRITABLE=" + dir_.string());
    evaluator_ = std::make_unique<evaluator::Evaluator>(config);
    settings_.trials = 2;
    settings_.warmup_runs = 1;
    settings_.min_runs = 3;
    settings_.max_runs = 3;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteProblem(const std::string& name, const std::string& text) {
    fs::path p = dir_ / "level2" / name;
    std::ofstream(p) << text;
    return p.string();
  }

  std::unique_ptr<SuiteRunner> Runner(std::vector<std::unique_ptr<agents::Agent>> agents,
                                      std::vector<ProgressEvent>* events,
                                      double min_gain = core::kDefaultMinGain) {
    return std::make_unique<SuiteRunner>(
        *store_, *evaluator_, std::move(agents), settings_,
        [events](const ProgressEvent& e) { events->push_back(e); }, min_gain);
  }

  // A run on a problem that sleeps 0.02 s per call, of one agent per (name, candidate) proposal.
  Result<SuiteResult> RunAgents(const std::vector<std::pair<std::string, std::string>>& proposals,
                                std::vector<ProgressEvent>* events);

  // A run of one agent, named `agent`, proposing ImportCountingCandidate(slow_when, slow_s) for a
  // problem that sleeps 0.02 s per call.
  Result<SuiteResult> RunImportCounting(const std::string& agent, const std::string& slow_when,
                                        std::vector<ProgressEvent>* events, double slow_s = 0.04);

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evaluator::Evaluator> evaluator_;
  core::EvalSettings settings_;
};

TEST_F(SuiteTest, KeepsTheFastestPassedCandidateAndFloorsAtEager) {
  std::string fast_problem = WriteProblem("a_slow_reference.py", SlowProblem(0.02));
  std::string tight_problem = WriteProblem("b_fast_reference.py", SlowProblem(0.0));
  std::string broken_problem = WriteProblem("c_broken.py", "import torch\n");

  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "wrong_then_fast", std::vector<std::string>{Candidate(0.0, "x * 3.0"), Candidate(0.002)}));
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "slow", std::vector<std::string>{Candidate(0.04)}));
  std::vector<ProgressEvent> events;
  auto runner = Runner(std::move(agents), &events);
  auto result = runner->Run("t", std::nullopt, "{}", {fast_problem, tight_problem, broken_problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->done, 2);
  EXPECT_EQ(result->skipped, 1);

  auto verdicts = store_->RunProblems(result->run_id).value();
  ASSERT_EQ(verdicts.size(), 3u);
  // Slow reference: the fast second attempt wins by a wide margin.
  EXPECT_EQ(verdicts[0].status, "done");
  ASSERT_TRUE(verdicts[0].best_evaluation_id.has_value());
  EXPECT_GT(*verdicts[0].speedup, 3.0);
  // Kept on a fresh sample: passed again in a fresh sandbox process, on another seed.
  auto best = store_->GetEvaluation(*verdicts[0].best_evaluation_id).value();
  EXPECT_EQ(best->attempt, 2);
  EXPECT_EQ(best->purpose, "recheck");
  EXPECT_EQ(best->evaluation.outcome, core::Outcome::kPassed);
  EXPECT_EQ(verdicts[0].recheck_evaluation_id, best->id);
  auto all = store_->EvaluationsOfRun(result->run_id).value();
  auto chose = std::find_if(all.begin(), all.end(), [&](const store::EvaluationRecord& e) {
    return e.candidate_id == best->candidate_id && e.purpose == "candidate";
  });
  ASSERT_NE(chose, all.end());
  EXPECT_NE(chose->evaluation.seed, best->evaluation.seed);
  // Nothing beats a reference that does no waiting: eager stays, the speedup is floored at 1.
  EXPECT_EQ(verdicts[1].status, "done");
  EXPECT_FALSE(verdicts[1].best_evaluation_id.has_value());
  EXPECT_DOUBLE_EQ(*verdicts[1].speedup, 1.0);
  // A broken problem is reported and skipped; the run goes on.
  EXPECT_EQ(verdicts[2].status, "skipped");
  EXPECT_NE(verdicts[2].message.find("get_inputs"), std::string::npos) << verdicts[2].message;

  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 7u);  // 3 candidates on each of the two good problems, 1 recheck
  EXPECT_EQ(evals[0].generator, "wrong_then_fast");
  EXPECT_EQ(evals[0].evaluation.outcome, core::Outcome::kWrong);
  EXPECT_EQ(store_->FindRun("t").value()->status, "finished");
  EXPECT_FALSE(events.empty());
}

TEST_F(SuiteTest, ProblemsAreSpreadAcrossDevicesWithTheVerdictsOfOneDevice) {
  // Two CPU workers stand in for two GPUs: the scheduler is the same.
  std::vector<std::string> problems;
  for (int i = 0; i < 2; ++i) {
    problems.push_back(WriteProblem(fmt::format("p{}.py", i),
                                    SlowProblem(i % 2 ? 0.0 : 0.02) + fmt::format("# {}\n", i)));
  }
  auto agents_for = [] {
    std::vector<std::unique_ptr<agents::Agent>> agents;
    // The second attempt sleeps 5 ms: 4x faster than the 20 ms reference, far slower than the
    // one that does not sleep, so each verdict is clear even with two workers sharing the CPU.
    agents.push_back(std::make_unique<testing::FakeAgent>(
        "wrong_then_fast", std::vector<std::string>{Candidate(0.0, "x * 3.0"), Candidate(0.005)}));
    return agents;
  };
  std::vector<ProgressEvent> events;
  auto one = Runner(agents_for(), &events)->Run("one", std::nullopt, "{}", problems);
  ASSERT_TRUE(one.has_value()) << one.error().ToString();

  evaluator::WorkerConfig config = evaluator::DefaultWorkerConfig();
  config.device = "cpu";
  config.extra_env.push_back("KSWARM_JAIL_WRITABLE=" + dir_.string());
  evaluator::Evaluator first(config), second(config);
  ASSERT_TRUE(first.Environment().has_value());
  ASSERT_TRUE(second.Environment().has_value());
  SuiteRunner two(*store_, {&first, &second}, agents_for(), settings_,
                  [&](const ProgressEvent& e) { events.push_back(e); });
  auto spread = two.Run("two", std::nullopt, "{}", problems);
  ASSERT_TRUE(spread.has_value()) << spread.error().ToString();
  EXPECT_EQ(spread->done, 2);
  EXPECT_GT(first.jobs_sent(), 0);
  EXPECT_GT(second.jobs_sent(), 0);

  auto a = store_->RunProblems(one->run_id).value();
  auto b = store_->RunProblems(spread->run_id).value();
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  auto kept = [&](const store::RunProblemRecord& r) {
    if (!r.best_evaluation_id) return std::string("eager");
    auto e = store_->GetEvaluation(*r.best_evaluation_id).value();
    return fmt::format("{} attempt {}", e->generator, e->attempt);
  };
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a[i].problem_path, b[i].problem_path);
    EXPECT_EQ(a[i].position, b[i].position);
    EXPECT_EQ(b[i].status, "done");
    EXPECT_EQ(kept(a[i]), kept(b[i])) << a[i].problem_path;
  }
  EXPECT_EQ(kept(b[0]), "wrong_then_fast attempt 2");
  EXPECT_EQ(kept(b[1]), "eager");
}

TEST_F(SuiteTest, TheBuildPoolBuildsFirstAttemptsAheadAndItsCompileErrorIsTheVerdict) {
  // Candidates that compile a CUDA kernel with NVRTC at import (no GPU needed to compile); slower
  // than eager, so never kept and never re-verified.
  auto rt_candidate = [](const char* body) {
    return fmt::format(R"py(import kswarm_rt, time, torch.nn as nn
kswarm_rt.compile_cubin('extern "C" __global__ void k(float* y) {{ y[0] = {}; }}', 'k', arch='sm_90')
class ModelNew(nn.Module):
    def forward(self, x):
        time.sleep(0.005)
        return x * 2.0
)py",
                       body);
  };
  std::string problem = WriteProblem("a.py", SlowProblem(0.0));
  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "good", std::vector<std::string>{rt_candidate("1.0f")}));
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "bad", std::vector<std::string>{rt_candidate("no_such_value")}));
  evaluator::BuildPoolConfig build;
  build.worker = evaluator::DefaultWorkerConfig();
  build.worker.extra_env = {"KSWARM_RT_CACHE=" + (dir_ / "nvrtc").string()};
  build.build_arch = "cpu-x86_64";
  build.jobs = 2;
  evaluator::BuildPool pool(build);
  std::vector<ProgressEvent> events;
  auto runner = Runner(std::move(agents), &events);
  runner->set_build_pool(&pool);
  auto result = runner->Run("pool", std::nullopt, "{}", {problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(pool.builds_started(), 2);

  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_EQ(evals[0].generator, "good");
  EXPECT_EQ(evals[0].evaluation.outcome, core::Outcome::kPassed) << evals[0].evaluation.message;
  EXPECT_NE(evals[0].evaluation.phase_ms_json.find("\"prebuild\""), std::string::npos);
  EXPECT_NE(evals[0].evaluation.phase_ms_json.find("\"verify\""), std::string::npos);
  // The compile error came from the pool; the worker never saw the candidate.
  EXPECT_EQ(evals[1].generator, "bad");
  EXPECT_EQ(evals[1].evaluation.outcome, core::Outcome::kCompileError);
  EXPECT_NE(evals[1].evaluation.message.find("no_such_value"), std::string::npos)
      << evals[1].evaluation.message;
  EXPECT_NE(evals[1].evaluation.phase_ms_json.find("\"prebuild\""), std::string::npos);
  EXPECT_EQ(evals[1].evaluation.phase_ms_json.find("\"verify\""), std::string::npos);
  EXPECT_EQ(evaluator_->jobs_sent(), 1);
}

TEST_F(SuiteTest, MeteredAgentsProposeTogetherAndEveryCallIsRecorded) {
  std::string problem = WriteProblem("a.py", SlowProblem(0.02));
  std::atomic<int> in_flight{0}, peak{0};
  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::make_unique<MeteredAgent>(
      "model-a", std::vector<std::string>{Candidate(0.0, "x * 3.0"), Candidate(0.002)},
      &in_flight, &peak));
  agents.push_back(std::make_unique<MeteredAgent>(
      "model-b", std::vector<std::string>{Candidate(0.001)}, &in_flight, &peak));
  std::vector<ProgressEvent> events;
  auto result = Runner(std::move(agents), &events)->Run("m", std::nullopt, "{}", {problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(peak.load(), 2);  // both models were asked at once

  auto calls = store_->AgentCallsOfRun(result->run_id).value();
  ASSERT_EQ(calls.size(), 3u);
  std::map<std::string, int> per_agent;
  for (const auto& c : calls) {
    ++per_agent[c.agent];
    ASSERT_TRUE(c.evaluation_id.has_value());
    auto e = store_->GetEvaluation(*c.evaluation_id).value();
    EXPECT_EQ(e->generator, c.agent);
    EXPECT_EQ(e->attempt, c.attempt);
    EXPECT_EQ(c.tokens_in, 600);
  }
  EXPECT_EQ(per_agent["model-a"], 2);
  EXPECT_EQ(per_agent["model-b"], 1);
  EXPECT_EQ(store_->RunProblems(result->run_id).value()[0].status, "done");
}

TEST_F(SuiteTest, AMeteredAgentStopsWhenTheBudgetIsSpent) {
  std::string problem = WriteProblem("a.py", SlowProblem(0.02));
  std::atomic<int> in_flight{0}, peak{0};
  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::make_unique<MeteredAgent>(
      "model-a", std::vector<std::string>{Candidate(0.0, "x * 3.0"), Candidate(0.0, "x * 4.0"),
                                          Candidate(0.002)},
      &in_flight, &peak));
  std::vector<ProgressEvent> events;
  auto runner = Runner(std::move(agents), &events);
  runner->set_budget({/*tokens=*/1500, std::nullopt, std::nullopt});
  auto result = runner->Run("b", std::nullopt, "{}", {problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  // 1000 tokens after the first call, 2000 after the second: no third.
  EXPECT_EQ(store_->AgentCallsOfRun(result->run_id).value().size(), 2u);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const ProgressEvent& e) {
    return e.outcome == "budget: tokens: 2000 of 1500";
  }));
  EXPECT_EQ(store_->FindRun("b").value()->status, "finished");
}

TEST_F(SuiteTest, AMemberStopsAtItsOwnBudgetWhileTheOthersGoOn) {
  std::string problem = WriteProblem("a.py", SlowProblem(0.02));
  std::atomic<int> in_flight{0}, peak{0};
  std::vector<std::string> three = {Candidate(0.0, "x * 3.0"), Candidate(0.0, "x * 4.0"),
                                    Candidate(0.0, "x * 5.0")};
  auto capped = std::make_unique<MeteredAgent>("model+profile", three, &in_flight, &peak);
  capped->budget_.max_tokens = 1500;
  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::move(capped));
  agents.push_back(std::make_unique<MeteredAgent>("model", three, &in_flight, &peak));
  std::vector<ProgressEvent> events;
  auto result = Runner(std::move(agents), &events)->Run("m", std::nullopt, "{}", {problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  std::map<std::string, int> calls;
  auto recorded = store_->AgentCallsOfRun(result->run_id).value();
  for (const auto& c : recorded) ++calls[c.agent];
  EXPECT_EQ(calls["model+profile"], 2);  // 1000 tokens after one call, 2000 after two
  EXPECT_EQ(calls["model"], 3);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const ProgressEvent& e) {
    return e.agent == "model+profile" && e.outcome == "budget: member tokens: 2000 of 1500";
  }));
}

TEST_F(SuiteTest, ACandidateBelowTheMinimumGainIsNotKept) {
  // About 1.7x faster than eager, but the run asks for at least 3x.
  std::string problem = WriteProblem("a.py", SlowProblem(0.02));
  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "faster", std::vector<std::string>{Candidate(0.012)}));
  std::vector<ProgressEvent> events;
  auto result = Runner(std::move(agents), &events, /*min_gain=*/2.0)
                    ->Run("g", std::nullopt, "{}", {problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  auto verdicts = store_->RunProblems(result->run_id).value();
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].best_evaluation_id.has_value());
  EXPECT_DOUBLE_EQ(*verdicts[0].speedup, 1.0);
  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 1u);
  EXPECT_GT(*evals[0].evaluation.Speedup(), 1.2);  // it did pass and was faster
}

// A candidate that counts its imports in `counter` and sleeps `slow_s` per call (by default twice
// eager's time) on the imports `slow_when` names, a Python expression over `n`, the import's
// number; on the others it sleeps `fast_s` (by default not at all).
std::string ImportCountingCandidate(const fs::path& counter, const std::string& slow_when,
                                    double slow_s, double fast_s = 0.0) {
  return fmt::format(
      "import os, time\nimport torch.nn as nn\n"
      "with open('{0}', 'a') as f:\n    f.write('x')\n"
      "n = os.path.getsize('{0}')\n"
      "SLOW = {1}\n"
      "class ModelNew(nn.Module):\n"
      "    def forward(self, x):\n        time.sleep({2} if SLOW else {3})\n"
      "        return x * 2.0\n",
      counter.string(), slow_when, slow_s, fast_s);
}

Result<SuiteResult> SuiteTest::RunAgents(
    const std::vector<std::pair<std::string, std::string>>& proposals,
    std::vector<ProgressEvent>* events) {
  std::string problem = WriteProblem("a.py", SlowProblem(0.02));
  std::vector<std::unique_ptr<agents::Agent>> agents;
  for (const auto& [name, candidate] : proposals) {
    agents.push_back(
        std::make_unique<testing::FakeAgent>(name, std::vector<std::string>{candidate}));
  }
  return Runner(std::move(agents), events)->Run("r", std::nullopt, "{}", {problem});
}

Result<SuiteResult> SuiteTest::RunImportCounting(const std::string& agent,
                                                 const std::string& slow_when,
                                                 std::vector<ProgressEvent>* events,
                                                 double slow_s) {
  return RunAgents({{agent, ImportCountingCandidate(dir_ / "imports", slow_when, slow_s)}}, events);
}

// The decisions the verdict rule stored for the run's only problem, as "action agent" strings.
std::vector<std::string> Steps(store::Store& store, int64_t run_id) {
  std::vector<std::string> out;
  auto decisions = store.DecisionsOfRun(run_id).value();
  for (const auto& d : decisions) {
    std::string agent;
    if (d.candidate_evaluation_id) {
      agent = " " + store.GetEvaluation(*d.candidate_evaluation_id).value()->generator;
    }
    out.push_back(d.action + agent);
  }
  return out;
}

// The evaluation of `run` whose candidate came from `agent` and whose purpose is `purpose`.
const store::EvaluationRecord& EvaluationOf(const std::vector<store::EvaluationRecord>& run,
                                            const std::string& agent, const std::string& purpose) {
  auto it = std::find_if(run.begin(), run.end(), [&](const store::EvaluationRecord& e) {
    return e.generator == agent && e.purpose == purpose;
  });
  EXPECT_NE(it, run.end()) << agent << " " << purpose;
  return it == run.end() ? run.front() : *it;
}

TEST_F(SuiteTest, AWinnerWhoseSpeedDoesNotReproduceIsNotKept) {
  // Fast in its evaluation; from its second import on (fresh processes) twice eager's time: one
  // fresh sample shows it slower than eager, and eager stays.
  std::vector<ProgressEvent> events;
  auto result = RunImportCounting("flaky", "n >= 2", &events);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_GT(*evals[0].evaluation.Speedup(), 1.5);
  EXPECT_EQ(evals[1].purpose, "recheck");
  EXPECT_LT(*evals[1].evaluation.Speedup(), 1.0);
  auto verdict = store_->RunProblems(result->run_id).value().at(0);
  EXPECT_FALSE(verdict.best_evaluation_id.has_value());
  EXPECT_EQ(verdict.recheck_evaluation_id, evals[1].id);
  EXPECT_DOUBLE_EQ(*verdict.speedup, 1.0);
  EXPECT_FALSE(verdict.speedup_low.has_value());
  EXPECT_EQ(Steps(*store_, result->run_id),
            (std::vector<std::string>{"evaluate flaky", "keep_eager"}));
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const ProgressEvent& e) {
    return e.agent == "fresh sample of flaky" && e.outcome == "passed";
  }));
}

TEST_F(SuiteTest, TheKeptSpeedupComesFromFreshSamplesNotTheEvaluationThatChoseIt) {
  // No wait at all in its first evaluation, 10 ms per call (2x) in fresh processes: kept, at
  // about 2x with an interval around it, not at its first evaluation's figure.
  std::vector<ProgressEvent> events;
  auto result = RunAgents({{"lucky", ImportCountingCandidate(dir_ / "a", "n >= 2", 0.01)}}, &events);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_GE(evals.size(), 2u);
  EXPECT_GT(*evals[0].evaluation.Speedup(), 10.0);
  auto verdict = store_->RunProblems(result->run_id).value().at(0);
  ASSERT_TRUE(verdict.best_evaluation_id.has_value());
  EXPECT_EQ(store_->GetEvaluation(*verdict.best_evaluation_id).value()->purpose, "recheck");
  EXPECT_GT(*verdict.speedup, 1.5);
  EXPECT_LT(*verdict.speedup, 2.5);
  ASSERT_TRUE(verdict.speedup_low && verdict.speedup_high);
  EXPECT_LT(*verdict.speedup_low, *verdict.speedup);
  EXPECT_GT(*verdict.speedup_high, *verdict.speedup);
  EXPECT_GT(*verdict.speedup_low, 1.01);
  auto steps = Steps(*store_, result->run_id);
  EXPECT_EQ(steps.back(), "keep lucky");
  EXPECT_EQ(steps.size(), evals.size());  // one step per fresh evaluation, and the keep
}

TEST_F(SuiteTest, AContenderCloseBehindTheKeptOneTakesOverWhenItsFreshSampleIsClearlyFaster) {
  // Eager sleeps 0.02 s per call. First evaluations: "first" 2.0x (0.01 s), "second" 1.9x
  // (0.0105 s), within noise of it. In fresh processes "first" is 1.33x (0.015 s) and "second"
  // 4x (0.005 s): "first" is looked at first and kept, "second" challenges it and takes over.
  std::vector<ProgressEvent> events;
  auto result = RunAgents(
      {{"first", ImportCountingCandidate(dir_ / "a", "n >= 2", 0.015, 0.01)},
       {"second", ImportCountingCandidate(dir_ / "b", "n == 1", 0.0105, 0.005)}},
      &events);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 4u);
  EXPECT_EQ(Steps(*store_, result->run_id),
            (std::vector<std::string>{"evaluate first", "evaluate second", "keep second"}));
  const auto& taken_over = EvaluationOf(evals, "second", "recheck");
  auto verdict = store_->RunProblems(result->run_id).value().at(0);
  EXPECT_EQ(verdict.best_evaluation_id, taken_over.id);
  EXPECT_EQ(verdict.recheck_evaluation_id, taken_over.id);
  EXPECT_NEAR(*verdict.speedup, *taken_over.evaluation.Speedup(), 1e-9);
  EXPECT_GT(*verdict.speedup, 3.0);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const ProgressEvent& e) {
    return e.kind == ProgressEvent::Kind::kProblemDone && e.agent == "second";
  }));
}

TEST_F(SuiteTest, AChallengerMustBeClearlyFasterToTakeOverAndAFarOneIsNotLookedAt) {
  // First evaluations: "first" 2.0x, "close" 1.9x, "far" 1.33x. In fresh processes "first" is
  // 1.67x and "close" 1.54x: "first" stays kept, at its fresh 1.67x; "far" is never looked at.
  std::vector<ProgressEvent> events;
  auto result = RunAgents({{"first", ImportCountingCandidate(dir_ / "a", "n >= 2", 0.012, 0.01)},
                           {"close", ImportCountingCandidate(dir_ / "b", "n >= 2", 0.013, 0.0105)},
                           {"far", ImportCountingCandidate(dir_ / "c", "True", 0.015)}},
                          &events);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 5u);
  EXPECT_EQ(Steps(*store_, result->run_id),
            (std::vector<std::string>{"evaluate first", "evaluate close", "keep first"}));
  const auto& kept_fresh = EvaluationOf(evals, "first", "recheck");
  auto verdict = store_->RunProblems(result->run_id).value().at(0);
  EXPECT_EQ(verdict.best_evaluation_id, kept_fresh.id);
  EXPECT_NEAR(*verdict.speedup, *kept_fresh.evaluation.Speedup(), 1e-9);
}

TEST_F(SuiteTest, ACandidateNeverSeesWhatAnotherAuthorsCandidateLeftInItsProcess) {
  // The first candidate leaves a helper behind in its sandbox process; the second, fast one is
  // right only where that helper exists. Candidates not written by kswarm each get a sandbox
  // process of their own (docs/containment.md), so the second is wrong from its first trial.
  std::string problem = WriteProblem("a.py", SlowProblem(0.02));
  std::string leaves_helper =
      "import math, time\nimport torch.nn as nn\n"
      "math.kswarm_helper = lambda x: x * 2.0\n"
      "class ModelNew(nn.Module):\n"
      "    def forward(self, x):\n        time.sleep(0.04)\n        return x * 2.0\n";
  std::string uses_helper =
      "import math\nimport torch.nn as nn\n"
      "class ModelNew(nn.Module):\n"
      "    def forward(self, x):\n"
      "        helper = getattr(math, 'kswarm_helper', None)\n"
      "        return helper(x) if helper else x * 3.0\n";
  std::vector<std::unique_ptr<agents::Agent>> agents;
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "slow", std::vector<std::string>{leaves_helper}));
  agents.push_back(std::make_unique<testing::FakeAgent>(
      "leaky", std::vector<std::string>{uses_helper}));
  std::vector<ProgressEvent> events;
  auto result = Runner(std::move(agents), &events)->Run("r", std::nullopt, "{}", {problem});
  ASSERT_TRUE(result.has_value()) << result.error().ToString();

  auto evals = store_->EvaluationsOfRun(result->run_id).value();
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_EQ(evals[1].generator, "leaky");
  EXPECT_EQ(evals[1].evaluation.outcome, core::Outcome::kWrong) << evals[1].evaluation.message;
  auto verdicts = store_->RunProblems(result->run_id).value();
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].best_evaluation_id.has_value());
}

TEST_F(SuiteTest, ResumeSkipsFinishedProblemsAndReusesThisRunsEvaluations) {
  std::string p1 = WriteProblem("a.py", SlowProblem(0.0));
  std::string p2 = WriteProblem("b.py", SlowProblem(0.0) + "# another problem\n");
  auto agents_for = [] {
    // Slower than eager, so never kept and never re-verified: one evaluation per problem (a copy
    // as fast as eager could win on noise and add a recheck).
    std::vector<std::unique_ptr<agents::Agent>> agents;
    agents.push_back(std::make_unique<testing::FakeAgent>(
        "copy", std::vector<std::string>{Candidate(0.005)}));
    return agents;
  };
  std::vector<ProgressEvent> events;
  auto first = Runner(agents_for(), &events)->Run("r", std::nullopt, "{}", {p1});
  ASSERT_TRUE(first.has_value());
  // Pretend the run was killed during p2: its row says running, its evaluation was recorded.
  auto second = Runner(agents_for(), &events)->Run("r", first->run_id, "{}", {p1, p2});
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->already_done, 1);
  EXPECT_EQ(second->done, 1);
  events.clear();
  store::RunProblemRecord killed = store_->RunProblems(first->run_id).value()[1];
  killed.status = "running";
  ASSERT_TRUE(store_->PutRunProblem(killed).ok());
  auto third = Runner(agents_for(), &events)->Run("r", first->run_id, "{}", {p1, p2});
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->done, 1);
  bool reused = false;
  for (const ProgressEvent& e : events) reused |= e.kind == ProgressEvent::Kind::kCandidate && e.cached;
  EXPECT_TRUE(reused);
  EXPECT_EQ(store_->EvaluationsOfRun(first->run_id).value().size(), 2u);
}

TEST_F(SuiteTest, FreshSamplesCheckFewerTrialsAndTheRunsRepeatsSetTheNextProblemsNoise) {
  // A rule under which a 2x candidate is sampled until the problem's cap of two and not kept
  // (a prior noise of 1.0 and a cap of 100 samples: one sample shows nothing, and any estimate
  // above 1.23x could be shown within the candidate's cap): the first problem's two fresh samples
  // are the run's noise pool when the second problem is decided, also after a resume.
  std::string p1 = WriteProblem("a.py", SlowProblem(0.02));
  std::string p2 = WriteProblem("b.py", SlowProblem(0.02) + "# another problem\n");
  VerdictRule rule;
  rule.prior_sigma = 1.0;
  rule.max_fresh = 100;
  rule.max_per_problem = 2;
  rule.fresh_trials = 1;
  auto run = [&](std::optional<int64_t> id, std::vector<std::string> paths) {
    std::vector<std::unique_ptr<agents::Agent>> agents;
    agents.push_back(std::make_unique<testing::FakeAgent>(
        "half", std::vector<std::string>{Candidate(0.01)}));
    std::vector<ProgressEvent> events;
    auto runner = Runner(std::move(agents), &events);
    runner->set_verdict_rule(rule);
    return runner->Run("r", id, "{}", paths);
  };
  auto first = run(std::nullopt, {p1});
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto evals = store_->EvaluationsOfRun(first->run_id).value();
  ASSERT_EQ(evals.size(), 3u);
  EXPECT_EQ(evals[0].settings.trials, 2);
  std::vector<double> samples;
  for (size_t i = 1; i < evals.size(); ++i) {
    EXPECT_EQ(evals[i].purpose, "recheck");
    EXPECT_EQ(evals[i].settings.trials, 1);
    EXPECT_EQ(evals[i].evaluation.trials_run, 1);
    samples.push_back(std::log(*evals[i].evaluation.Speedup()));
  }
  EXPECT_EQ(Steps(*store_, first->run_id),
            (std::vector<std::string>{"evaluate half", "evaluate half", "keep_eager"}));

  auto resumed = run(first->run_id, {p1, p2});
  ASSERT_TRUE(resumed.has_value()) << resumed.error().ToString();
  auto decisions = store_->DecisionsOfRun(first->run_id).value();
  NoisePool pool;
  pool.Add(samples);
  Ledger before_p2;
  before_p2.run = pool;
  const auto& p2_first = *std::find_if(decisions.begin(), decisions.end(), [&](const auto& d) {
    return d.problem_id != decisions.front().problem_id;
  });
  EXPECT_EQ(p2_first.step, 1);
  EXPECT_NEAR(p2_first.sigma, SampleNoise(before_p2, rule), 1e-12);
  EXPECT_NE(p2_first.sigma, rule.prior_sigma);
}

TEST(DiscoverProblemsTest, FilesAndFoldersSortedSkippingPrivateNames) {
  fs::path dir = fs::path(::testing::TempDir()) / ("kswarm_discover_" + std::to_string(::getpid()));
  fs::create_directories(dir / "level1" / "__pycache__");
  for (const char* f : {"level1/02_b.py", "level1/01_a.py", "level1/_helper.py",
                        "level1/notes.txt", "level1/__pycache__/x.py"}) {
    std::ofstream(dir / f) << "";
  }
  auto found = DiscoverProblems({(dir / "level1").string()});
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_NE((*found)[0].find("01_a.py"), std::string::npos);
  EXPECT_NE((*found)[1].find("02_b.py"), std::string::npos);
  auto missing = DiscoverProblems({(dir / "nope").string()});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kswarm::supervisor
