#include "kswarm/store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "kswarm/util/files.h"

namespace kswarm::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("kswarm_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "kswarm.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static core::Environment Env() {
    core::Environment env;
    env.device_type = "cpu";
    env.device_name = "Test CPU";
    env.torch_version = "2.11.0";
    env.python_version = "3.11.7";
    env.backend_flags_json = R"({"num_threads": 2})";
    return env;
  }

  // Records a problem, a candidate and one evaluation with `outcome`; returns the evaluation id.
  int64_t RecordOne(Store& store, core::Outcome outcome, const std::string& key,
                    const std::string& purpose = "candidate") {
    int64_t run = store.CreateRun("eval-test", "eval").value();
    ProblemRecord p{"01_relu", "/p/level1/01_relu.py", 1, "src", Sha256Hex("src")};
    int64_t problem = store.UpsertProblem(p).value();
    CandidateRecord c{problem, "cand", Sha256Hex("cand"), "user", "/c.py"};
    int64_t candidate = store.UpsertCandidate(c).value();
    EvaluationRecord r;
    r.run_id = run;
    r.problem_id = problem;
    r.candidate_id = candidate;
    r.environment = Env();
    r.cache_key = key;
    r.purpose = purpose;
    r.evaluation.outcome = outcome;
    r.evaluation.message = "msg";
    r.evaluation.seed = 42;
    if (outcome == core::Outcome::kPassed) {
      r.evaluation.baseline = core::TimingStats{2.0, 0.2, 1.8, 50};
      r.evaluation.candidate = core::TimingStats{1.0, 0.1, 0.9, 50};
      r.evaluation.max_abs_err = 1e-6;
      r.evaluation.max_rel_err = 1e-5;
    }
    return store.RecordEvaluation(r).value();
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreTest, RecordsAndReadsBackAnEvaluation) {
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  int64_t id = RecordOne(**store, core::Outcome::kPassed, "key1");
  auto rec = (*store)->GetEvaluation(id).value();
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->evaluation.outcome, core::Outcome::kPassed);
  ASSERT_TRUE(rec->evaluation.candidate.has_value());
  EXPECT_DOUBLE_EQ(rec->evaluation.candidate->median_ms, 1.0);
  EXPECT_EQ(rec->evaluation.baseline->count, 50);
  EXPECT_DOUBLE_EQ(*rec->evaluation.Speedup(), 2.0);
  EXPECT_EQ(rec->environment.device_name, "Test CPU");
  EXPECT_EQ(rec->evaluation.seed, 42u);
  EXPECT_EQ(rec->settings.trials, 100);
}

TEST_F(StoreTest, OpeningAnExistingDatabaseNeverCreatesOne) {
  auto missing = Store::OpenExisting(path_);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.error().message().find("no database at"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path_));
  RecordOne(*Store::Open(path_).value(), core::Outcome::kPassed, "k");
  auto existing = Store::OpenExisting(path_);
  ASSERT_TRUE(existing.has_value()) << existing.error().ToString();
  EXPECT_TRUE((*existing)->FindRun("eval-test").value().has_value());
}

TEST_F(StoreTest, AFolderIsNotADatabase) {
  for (auto open : {&Store::Open, &Store::OpenExisting}) {
    auto store = open(dir_.string());
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(store.error().message().find("is a folder"), std::string::npos)
        << store.error().message();
  }
}

TEST_F(StoreTest, UpsertsAreIdempotent) {
  auto store = std::move(Store::Open(path_).value());
  ProblemRecord p{"a", "/a.py", std::nullopt, "x", Sha256Hex("x")};
  EXPECT_EQ(store->UpsertProblem(p).value(), store->UpsertProblem(p).value());
  ProblemRecord moved = p;
  moved.path = "/b.py";
  EXPECT_NE(store->UpsertProblem(p).value(), store->UpsertProblem(moved).value());
  CandidateRecord c{store->UpsertProblem(p).value(), "y", Sha256Hex("y"), "user", ""};
  EXPECT_EQ(store->UpsertCandidate(c).value(), store->UpsertCandidate(c).value());
}

TEST_F(StoreTest, CacheAnswersNewestButNeverATimeout) {
  auto store = std::move(Store::Open(path_).value());
  EXPECT_FALSE(store->FindCached("k").value().has_value());
  int64_t first = RecordOne(*store, core::Outcome::kWrong, "k");
  EXPECT_EQ(store->FindCached("k").value()->id, first);
  RecordOne(*store, core::Outcome::kTimeout, "k");
  EXPECT_EQ(store->FindCached("k").value()->id, first);
  int64_t third = RecordOne(*store, core::Outcome::kPassed, "k");
  EXPECT_EQ(store->FindCached("k").value()->id, third);
  EXPECT_FALSE(store->FindCached("other").value().has_value());
}

TEST_F(StoreTest, ARecheckIsKeptButNeverAnswersTheCache) {
  auto store = std::move(Store::Open(path_).value());
  int64_t candidate = RecordOne(*store, core::Outcome::kPassed, "k");
  int64_t recheck = RecordOne(*store, core::Outcome::kPassed, "k", "recheck");
  EXPECT_EQ(store->FindCached("k").value()->id, candidate);
  EXPECT_EQ(store->GetEvaluation(recheck).value()->purpose, "recheck");

  RunProblemRecord rp;
  rp.run_id = store->CreateRun("suite", "run").value();
  rp.problem_id = 1;
  rp.status = "done";
  rp.best_evaluation_id = candidate;
  rp.recheck_evaluation_id = recheck;
  ASSERT_TRUE(store->PutRunProblem(rp).ok());
  EXPECT_EQ(store->RunProblems(rp.run_id).value().at(0).recheck_evaluation_id, recheck);
}

TEST_F(StoreTest, ModelCallsAreKeptWithTheirEvaluationOrTheirError) {
  auto store = Store::Open(path_).value();
  int64_t evaluation = RecordOne(*store, core::Outcome::kPassed, "k");
  auto e = store->GetEvaluation(evaluation).value().value();
  AgentCallRecord call;
  call.run_id = e.run_id;
  call.problem_id = e.problem_id;
  call.agent = "model-a";
  call.attempt = 2;
  call.model = "a-1";
  call.evaluation_id = evaluation;
  call.request_json = R"({"messages": []})";
  call.reply = "```python\n```";
  call.tokens_in = 1200;
  call.tokens_out = 300;
  call.cost_usd = 0.0054;
  call.latency_ms = 8123;
  call.retries = 1;
  ASSERT_TRUE(store->RecordAgentCall(call).has_value());
  AgentCallRecord failed = call;
  failed.evaluation_id.reset();
  failed.error = "model 'model-a': gave up after 6 tries";
  failed.tokens_in = failed.tokens_out = 0;
  ASSERT_TRUE(store->RecordAgentCall(failed).has_value());

  auto calls = store->AgentCallsOfRun(e.run_id).value();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].evaluation_id, evaluation);
  EXPECT_EQ(calls[0].tokens_in, 1200);
  EXPECT_DOUBLE_EQ(calls[0].cost_usd, 0.0054);
  EXPECT_EQ(calls[0].attempt, 2);
  EXPECT_TRUE(calls[0].error.empty());
  EXPECT_FALSE(calls[1].evaluation_id.has_value());
  EXPECT_EQ(calls[1].error, "model 'model-a': gave up after 6 tries");
  call.evaluation_id = 999999;  // no such evaluation: the foreign key refuses it
  EXPECT_FALSE(store->RecordAgentCall(call).has_value());
}

TEST_F(StoreTest, ProfilesAndAdviceCallsAreKept) {
  auto store = Store::Open(path_).value();
  int64_t evaluation = RecordOne(*store, core::Outcome::kPassed, "k");
  auto e = store->GetEvaluation(evaluation).value().value();
  ProfileRecord profile;
  profile.run_id = e.run_id;
  profile.evaluation_id = evaluation;
  profile.agent = "model-a+profile";
  profile.tool = "torch.profiler";
  profile.metrics_json = R"({"per_call_ms": 0.5})";
  profile.summary = "One call takes 0.5 ms.";
  profile.wall_ms = 4200;
  ASSERT_TRUE(store->RecordProfile(profile).has_value());
  ProfileRecord failed = profile;
  failed.tool = failed.metrics_json = failed.summary = "";
  failed.error = "the candidate raised under the profiler";
  ASSERT_TRUE(store->RecordProfile(failed).has_value());
  auto profiles = store->ProfilesOfRun(e.run_id).value();
  ASSERT_EQ(profiles.size(), 2u);
  EXPECT_EQ(profiles[0].summary, "One call takes 0.5 ms.");
  EXPECT_EQ(profiles[0].agent, "model-a+profile");
  EXPECT_EQ(profiles[1].tool, "");
  EXPECT_EQ(profiles[1].error, "the candidate raised under the profiler");

  AgentCallRecord advice;
  advice.run_id = e.run_id;
  advice.problem_id = e.problem_id;
  advice.agent = "model-a+profile";
  advice.model = "helper-1";
  advice.purpose = "profile_advice";
  ASSERT_TRUE(store->RecordAgentCall(advice).has_value());
  EXPECT_EQ(store->AgentCallsOfRun(e.run_id).value().at(0).purpose, "profile_advice");
  advice.purpose = "chat";  // not a purpose the schema knows
  EXPECT_FALSE(store->RecordAgentCall(advice).has_value());
}

TEST_F(StoreTest, AWinnerOnOneDeviceIsFoundFromAnother) {
  auto store = Store::Open(path_).value();
  int64_t evaluation = RecordOne(*store, core::Outcome::kPassed, "k");  // on the CPU
  EXPECT_FALSE(store->BestWinnerOnOtherDevice(Sha256Hex("src"), "cuda").value().has_value());
  RunProblemRecord rp;
  rp.run_id = store->CreateRun("cpu-sweep", "run").value();
  rp.problem_id = store->GetEvaluation(evaluation).value()->problem_id;
  rp.status = "done";
  rp.best_evaluation_id = evaluation;
  rp.speedup = 2.0;
  ASSERT_TRUE(store->PutRunProblem(rp).ok());
  auto winner = store->BestWinnerOnOtherDevice(Sha256Hex("src"), "cuda").value();
  ASSERT_TRUE(winner.has_value());
  EXPECT_EQ(winner->source, "cand");
  EXPECT_EQ(winner->device_type, "cpu");
  EXPECT_EQ(winner->run_name, "cpu-sweep");
  EXPECT_DOUBLE_EQ(winner->speedup, 2.0);
  EXPECT_FALSE(store->BestWinnerOnOtherDevice(Sha256Hex("src"), "cpu").value().has_value());
  EXPECT_FALSE(store->BestWinnerOnOtherDevice(Sha256Hex("other"), "cuda").value().has_value());
}

TEST_F(StoreTest, SurvivesReopenInWalMode) {
  {
    auto store = std::move(Store::Open(path_).value());
    RecordOne(*store, core::Outcome::kPassed, "k");
  }
  auto store = std::move(Store::Open(path_).value());
  EXPECT_TRUE(store->FindCached("k").value().has_value());
  SQLite::Database db(path_);
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), 9);
}

TEST_F(StoreTest, AProblemOfARunIsPendingUntilItStartsAndVerdictsSurviveTheMigration) {
  auto store = std::move(Store::Open(path_).value());
  int64_t run = store->CreateRun("r", "run").value();
  ProblemRecord p{"01_relu", "/p/level1/01_relu.py", 1, "src", Sha256Hex("src")};
  RunProblemRecord row;
  row.run_id = run;
  row.problem_id = store->UpsertProblem(p).value();
  row.status = "done";
  row.speedup = 1.5;
  ASSERT_TRUE(store->PutRunProblem(row).ok());
  store.reset();
  {
    // Back to version 6, whose CHECK knew no 'pending': the migration keeps the verdict.
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE decisions; ALTER TABLE evaluations DROP COLUMN isolation; "
            "PRAGMA user_version=6");
  }
  store = std::move(Store::Open(path_).value());
  auto rows = store->RunProblems(run).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "done");
  EXPECT_DOUBLE_EQ(*rows[0].speedup, 1.5);
  row.status = "pending";
  EXPECT_TRUE(store->PutRunProblem(row).ok());
  row.status = "bogus";
  EXPECT_FALSE(store->PutRunProblem(row).ok());
}

TEST_F(StoreTest, ManyOpenANewFileAtOnce) {
  // Parallel `kswarm eval`s on a fresh --db: each must get a working store, one schema.
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto store = Store::Open(path_);
      if (!store.has_value()) {
        ADD_FAILURE() << store.error().ToString();
      } else if (auto id = (*store)->CreateRun("r", "eval"); !id.has_value()) {
        ADD_FAILURE() << id.error().ToString();
      } else {
        ++opened;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 8);
  SQLite::Database db(path_);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM runs").getInt(), 8);
}

TEST_F(StoreTest, RefusesNewerSchemaAndForeignFiles) {
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA user_version=99");
  }
  auto newer = Store::Open(path_);
  ASSERT_FALSE(newer.has_value());
  EXPECT_EQ(newer.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(newer.error().message().find("newer"), std::string::npos);

  std::string junk = (dir_ / "junk.db").string();
  std::ofstream(junk) << "this is not a database, just some text that is long enough........";
  auto foreign = Store::Open(junk);
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, MigratesAVersion1Database) {
  {
    // A version-1 database as the first release wrote it, with one evaluation.
    SQLite::Database db(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, command TEXT NOT NULL,"
            " started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL);"
            "CREATE TABLE evaluations (id INTEGER PRIMARY KEY, run_id INTEGER, outcome TEXT);"
            "CREATE TABLE problems (id INTEGER PRIMARY KEY);"
            "INSERT INTO runs VALUES (1, 'eval-x', 'eval', 't', NULL, 'finished');"
            "INSERT INTO evaluations VALUES (1, 1, 'passed');"
            "PRAGMA user_version=1;");
  }
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  SQLite::Database db(path_);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), 9);
  EXPECT_EQ(db.execAndGet("SELECT attempt FROM evaluations WHERE id = 1").getInt(), 1);
  EXPECT_EQ(db.execAndGet("SELECT purpose FROM evaluations WHERE id = 1").getString(),
            "candidate");
  EXPECT_TRUE(db.tableExists("run_problems"));
  EXPECT_TRUE(db.tableExists("agent_calls"));
  auto run = (*store)->FindRun("eval-x").value();
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->status, "finished");
}

TEST_F(StoreTest, RunsAndTheirProblemVerdicts) {
  auto store = std::move(Store::Open(path_).value());
  int64_t eval_id = RecordOne(*store, core::Outcome::kPassed, "k");
  int64_t run = store->CreateRun("suite", "run", R"({"agents":["torch_compile"]})").value();
  auto found = store->FindRun("suite").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, run);
  EXPECT_EQ(found->config_json, R"({"agents":["torch_compile"]})");
  EXPECT_EQ(store->LatestRun("run").value()->id, run);

  RunProblemRecord rp;
  rp.run_id = run;
  rp.problem_id = 1;
  rp.position = 0;
  rp.status = "running";
  ASSERT_TRUE(store->PutRunProblem(rp).ok());
  rp.status = "done";
  rp.best_evaluation_id = eval_id;
  rp.speedup = 2.0;
  ASSERT_TRUE(store->PutRunProblem(rp).ok());
  auto problems = store->RunProblems(run).value();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].status, "done");
  EXPECT_EQ(problems[0].best_evaluation_id, eval_id);
  EXPECT_EQ(problems[0].problem_name, "01_relu");
  EXPECT_EQ(problems[0].level, 1);
  EXPECT_FALSE(problems[0].speedup_low.has_value());
  rp.speedup_low = 1.8;
  rp.speedup_high = 2.2;
  ASSERT_TRUE(store->PutRunProblem(rp).ok());
  problems = store->RunProblems(run).value();
  EXPECT_EQ(problems[0].speedup_low, 1.8);
  EXPECT_EQ(problems[0].speedup_high, 2.2);

  // A problem's decisions are replaced together (a resumed problem is decided again).
  DecisionRecord sample{1, 1, "evaluate", eval_id, eval_id, "fresh", 0.05, {}, {}, {}, {}};
  DecisionRecord keep{1, 2, "keep", eval_id, eval_id, "kept", 0.05, 2.0, 1.8, 2.2, 1};
  EXPECT_FALSE(store->PutDecisions(run, 1, {sample, sample, keep}).ok());  // steps are unique
  EXPECT_TRUE(store->DecisionsOfRun(run).value().empty());  // nothing half-written
  ASSERT_TRUE(store->PutDecisions(run, 1, {sample, keep}).ok());
  DecisionRecord eager{1, 1, "keep_eager", {}, {}, "none", 0.05, {}, {}, {}, {}};
  ASSERT_TRUE(store->PutDecisions(run, 1, {eager}).ok());
  auto decisions = store->DecisionsOfRun(run).value();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].action, "keep_eager");
  EXPECT_FALSE(decisions[0].candidate_evaluation_id.has_value());
  ASSERT_TRUE(store->PutDecisions(run, 1, {sample, keep}).ok());
  decisions = store->DecisionsOfRun(run).value();
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1].speedup_low, 1.8);
  EXPECT_EQ(decisions[1].samples, 1);

  auto evals = store->EvaluationsOfRun(store->FindRun("eval-test").value()->id).value();
  ASSERT_EQ(evals.size(), 1u);
  EXPECT_EQ(evals[0].generator, "user");
  EXPECT_EQ(evals[0].attempt, 1);
}

TEST_F(StoreTest, ThreadsShareOneStore) {
  // One run's problems evaluated on several GPUs at once record through one Store.
  auto store = std::move(Store::Open(path_).value());
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> ids(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        ids[t].push_back(RecordOne(*store, core::Outcome::kPassed, fmt::format("k{}-{}", t, i)));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> unique;
  for (const auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), 100u);
  for (int t = 0; t < 4; ++t) {
    auto found = store->FindCached(fmt::format("k{}-24", t)).value();
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, ids[t].back());
  }
}

TEST(CacheKeyTest, ChangesWithEveryField) {
  core::Environment env;
  env.device_type = "cuda";
  env.device_name = "H100";
  env.torch_version = "2.11.0";
  core::EvalSettings s;
  std::string base = CacheKey("p", "c", env, s);
  EXPECT_EQ(base, CacheKey("p", "c", env, s));
  EXPECT_NE(base, CacheKey("p2", "c", env, s));
  EXPECT_NE(base, CacheKey("p", "c2", env, s));
  core::Environment other = env;
  other.torch_version = "2.12.0";
  EXPECT_NE(base, CacheKey("p", "c", other, s));
  core::EvalSettings strict = s;
  strict.tolerance = core::Tolerance::kStrict;
  EXPECT_NE(base, CacheKey("p", "c", env, strict));
  core::EvalSettings small = s;
  small.shapes = "small";
  EXPECT_NE(base, CacheKey("p", "c", env, small));
}

}  // namespace
}  // namespace kswarm::store
