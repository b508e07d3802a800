#include "kswarm/store/store.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <ctime>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <fmt/format.h>

#include "kswarm/util/files.h"

namespace kswarm::store {
namespace {

constexpr int kSchemaVersion = 9;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  command TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL
);
CREATE TABLE problems (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  level INTEGER,
  source TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  UNIQUE (source_sha256, path)
);
CREATE TABLE candidates (
  id INTEGER PRIMARY KEY,
  problem_id INTEGER NOT NULL REFERENCES problems(id),
  source TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  generator TEXT NOT NULL,
  path TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (problem_id, sha256, generator)
);
CREATE TABLE evaluations (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  problem_id INTEGER NOT NULL REFERENCES problems(id),
  candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  outcome TEXT NOT NULL CHECK (outcome IN ('passed', 'wrong', 'compile_error', 'runtime_error',
                                           'timeout', 'crashed', 'rejected')),
  message TEXT NOT NULL,
  trials INTEGER NOT NULL,
  trials_run INTEGER NOT NULL,
  tolerance TEXT NOT NULL,
  shapes TEXT NOT NULL,
  seed INTEGER NOT NULL,
  max_abs_err REAL,
  max_rel_err REAL,
  baseline_median_ms REAL,
  baseline_iqr_ms REAL,
  baseline_min_ms REAL,
  baseline_count INTEGER,
  candidate_median_ms REAL,
  candidate_iqr_ms REAL,
  candidate_min_ms REAL,
  candidate_count INTEGER,
  speedup REAL,
  failure_json TEXT,
  phase_ms_json TEXT,
  wall_ms REAL,
  device_type TEXT NOT NULL,
  device_name TEXT NOT NULL,
  driver TEXT,
  torch_version TEXT NOT NULL,
  cuda_version TEXT,
  python_version TEXT,
  triton_version TEXT,
  worker_version TEXT,
  device_json TEXT,
  backend_flags_json TEXT,
  cache_key TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX evaluations_by_cache_key ON evaluations(cache_key, id);
CREATE INDEX evaluations_by_run ON evaluations(run_id);
)sql";

// Version 1 -> 2: runs remember their configuration (for resume), evaluations their attempt
// number, and run_problems holds the supervisor's verdict per problem.
constexpr const char* kMigrateV2 = R"sql(
ALTER TABLE runs ADD COLUMN config_json TEXT;
ALTER TABLE evaluations ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
CREATE INDEX runs_by_name ON runs(name, id);
CREATE TABLE run_problems (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  problem_id INTEGER NOT NULL REFERENCES problems(id),
  position INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'skipped')),
  message TEXT,
  best_evaluation_id INTEGER REFERENCES evaluations(id),
  compile_evaluation_id INTEGER REFERENCES evaluations(id),
  eager_ms REAL,
  compile_ms REAL,
  best_ms REAL,
  speedup REAL,
  speedup_vs_compile REAL,
  wall_ms REAL,
  PRIMARY KEY (run_id, problem_id)
);
)sql";

// Version 2 -> 3: the checks' suspicious findings about a candidate (docs/verification.md).
constexpr const char* kMigrateV3 = R"sql(
ALTER TABLE evaluations ADD COLUMN flags_json TEXT;
)sql";

// Version 3 -> 4: a winner is re-verified in a fresh process before it is kept; that evaluation
// is stored apart from the agents' candidates (purpose 'recheck') and named by the verdict.
constexpr const char* kMigrateV4 = R"sql(
ALTER TABLE evaluations ADD COLUMN purpose TEXT NOT NULL DEFAULT 'candidate'
  CHECK (purpose IN ('candidate', 'recheck'));
ALTER TABLE run_problems ADD COLUMN recheck_evaluation_id INTEGER REFERENCES evaluations(id);
)sql";

// Version 4 -> 5: every model call an LLM agent made, with its tokens, cost and the attempt it
// produced (docs/schema.md).
constexpr const char* kMigrateV5 = R"sql(
CREATE TABLE agent_calls (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  problem_id INTEGER NOT NULL REFERENCES problems(id),
  agent TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  model TEXT NOT NULL,
  evaluation_id INTEGER REFERENCES evaluations(id),
  error TEXT,
  request_json TEXT NOT NULL,
  reply TEXT NOT NULL,
  tokens_in INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  latency_ms REAL NOT NULL,
  retries INTEGER NOT NULL,
  truncated INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX agent_calls_run ON agent_calls(run_id, problem_id, agent);
)sql";

// Version 5 -> 6: profiles of passed candidates for the profile context configurations, and the
// purpose of a model call (a proposal, or a helper's advice on a profile) (docs/schema.md).
constexpr const char* kMigrateV6 = R"sql(
CREATE TABLE profiles (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
  agent TEXT NOT NULL,
  tool TEXT,
  metrics_json TEXT,
  summary TEXT,
  error TEXT,
  wall_ms REAL NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX profiles_run ON profiles(run_id, evaluation_id);
ALTER TABLE agent_calls ADD COLUMN purpose TEXT NOT NULL DEFAULT 'propose'
  CHECK (purpose IN ('propose', 'profile_advice'));
)sql";

// Version 6 -> 7: every problem of a run has a row from the start, 'pending' until it starts
// (SQLite changes a CHECK only by rebuilding the table).
constexpr const char* kMigrateV7 = R"sql(
CREATE TABLE run_problems_v7 (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  problem_id INTEGER NOT NULL REFERENCES problems(id),
  position INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'skipped')),
  message TEXT,
  best_evaluation_id INTEGER REFERENCES evaluations(id),
  compile_evaluation_id INTEGER REFERENCES evaluations(id),
  eager_ms REAL,
  compile_ms REAL,
  best_ms REAL,
  speedup REAL,
  speedup_vs_compile REAL,
  wall_ms REAL,
  recheck_evaluation_id INTEGER REFERENCES evaluations(id),
  PRIMARY KEY (run_id, problem_id)
);
INSERT INTO run_problems_v7(run_id, problem_id, position, status, message, best_evaluation_id,
  compile_evaluation_id, eager_ms, compile_ms, best_ms, speedup, speedup_vs_compile, wall_ms,
  recheck_evaluation_id)
SELECT run_id, problem_id, position, status, message, best_evaluation_id, compile_evaluation_id,
  eager_ms, compile_ms, best_ms, speedup, speedup_vs_compile, wall_ms, recheck_evaluation_id
FROM run_problems;
DROP TABLE run_problems;
ALTER TABLE run_problems_v7 RENAME TO run_problems;
)sql";

// Version 7 -> 8: what confined each evaluation's candidate (docs/containment.md).
constexpr const char* kMigrateV8 = R"sql(
ALTER TABLE evaluations ADD COLUMN isolation TEXT;
)sql";

// Version 8 -> 9: the verdict rule's decisions, and the kept speed-up's interval
// (docs/verification.md, "The verdict").
constexpr const char* kMigrateV9 = R"sql(
CREATE TABLE decisions (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  problem_id INTEGER NOT NULL REFERENCES problems(id),
  step INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('evaluate', 'keep', 'keep_eager')),
  candidate_evaluation_id INTEGER REFERENCES evaluations(id),
  evaluation_id INTEGER REFERENCES evaluations(id),
  reason TEXT NOT NULL,
  sigma REAL NOT NULL,
  speedup REAL,
  speedup_low REAL,
  speedup_high REAL,
  samples INTEGER,
  PRIMARY KEY (run_id, problem_id, step)
);
ALTER TABLE run_problems ADD COLUMN speedup_low REAL;
ALTER TABLE run_problems ADD COLUMN speedup_high REAL;
)sql";

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status DbError(const std::exception& e, const char* what) {
  return Status(StatusCode::kIoError, fmt::format("database: {}: {}", what, e.what()));
}

template <typename Key, typename T>
void BindOptional(SQLite::Statement& q, Key name, const std::optional<T>& v) {
  if (v) {
    q.bind(name, *v);
  } else {
    q.bind(name);
  }
}

template <typename Key>
void BindTextOrNull(SQLite::Statement& q, Key key, const std::string& v) {
  if (v.empty()) {
    q.bind(key);
  } else {
    q.bind(key, v);
  }
}

std::optional<double> OptDouble(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

std::string Text(const SQLite::Column& c) { return c.isNull() ? std::string() : c.getString(); }

std::optional<core::TimingStats> ReadTiming(SQLite::Statement& q, const std::string& prefix) {
  if (q.getColumn((prefix + "_median_ms").c_str()).isNull()) return std::nullopt;
  core::TimingStats t;
  t.median_ms = q.getColumn((prefix + "_median_ms").c_str()).getDouble();
  t.iqr_ms = q.getColumn((prefix + "_iqr_ms").c_str()).getDouble();
  t.min_ms = q.getColumn((prefix + "_min_ms").c_str()).getDouble();
  t.count = q.getColumn((prefix + "_count").c_str()).getInt();
  return t;
}

// Evaluations are read with the generator of their candidate.
constexpr const char* kSelectEvaluations = R"sql(
  SELECT e.*, c.generator AS generator FROM evaluations e
  JOIN candidates c ON c.id = e.candidate_id )sql";

EvaluationRecord ReadEvaluation(SQLite::Statement& q) {
  EvaluationRecord r;
  r.generator = q.getColumn("generator").getString();
  r.id = q.getColumn("id").getInt64();
  r.run_id = q.getColumn("run_id").getInt64();
  r.problem_id = q.getColumn("problem_id").getInt64();
  r.candidate_id = q.getColumn("candidate_id").getInt64();
  r.cache_key = q.getColumn("cache_key").getString();
  r.attempt = q.getColumn("attempt").getInt();
  r.purpose = q.getColumn("purpose").getString();
  r.created_at = q.getColumn("created_at").getString();

  r.settings.trials = q.getColumn("trials").getInt();
  r.settings.tolerance =
      core::ParseTolerance(q.getColumn("tolerance").getString()).value_or(core::Tolerance::kSeed);
  r.settings.shapes = q.getColumn("shapes").getString();

  core::Environment& env = r.environment;
  env.device_type = Text(q.getColumn("device_type"));
  env.device_name = Text(q.getColumn("device_name"));
  env.driver = Text(q.getColumn("driver"));
  env.torch_version = Text(q.getColumn("torch_version"));
  env.cuda_version = Text(q.getColumn("cuda_version"));
  env.python_version = Text(q.getColumn("python_version"));
  env.triton_version = Text(q.getColumn("triton_version"));
  env.isolation = Text(q.getColumn("isolation"));
  env.worker_version = Text(q.getColumn("worker_version"));
  env.device_json = Text(q.getColumn("device_json"));
  env.backend_flags_json = Text(q.getColumn("backend_flags_json"));

  core::Evaluation& e = r.evaluation;
  e.outcome = core::ParseOutcome(q.getColumn("outcome").getString())
                  .value_or(core::Outcome::kRuntimeError);
  e.message = q.getColumn("message").getString();
  e.trials_run = q.getColumn("trials_run").getInt();
  e.seed = static_cast<uint64_t>(q.getColumn("seed").getInt64());
  e.max_abs_err = OptDouble(q.getColumn("max_abs_err"));
  e.max_rel_err = OptDouble(q.getColumn("max_rel_err"));
  e.baseline = ReadTiming(q, "baseline");
  e.candidate = ReadTiming(q, "candidate");
  e.failure_json = Text(q.getColumn("failure_json"));
  e.phase_ms_json = Text(q.getColumn("phase_ms_json"));
  e.flags_json = Text(q.getColumn("flags_json"));
  e.wall_ms = q.getColumn("wall_ms").isNull() ? 0 : q.getColumn("wall_ms").getDouble();
  return r;
}

}  // namespace

Store::Store(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}
Store::~Store() = default;

namespace {

// A path the database cannot live at: a folder, or (when `must_exist`) nothing at all.
Status CheckDatabasePath(const std::string& path, bool must_exist) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{} is a folder; --db names the database file", path));
  }
  if (must_exist && !std::filesystem::exists(path, ec)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("no database at {} (kswarm run and kswarm eval create one)", path));
  }
  return Status::Ok();
}

// Whether this process may write the database: the file, and its folder for the WAL's files.
bool Writable(const std::string& path) {
  std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  return ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  if (Status s = CheckDatabasePath(path, /*must_exist=*/false); !s.ok()) return Error(s);
  // Switching a new file to WAL does not wait on the busy handler: when several processes open
  // one new file at once, the losers see SQLITE_BUSY and try again.
  for (int attempt = 1;; ++attempt) {
    auto store = OpenOnce(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    if (store.has_value() || attempt == 50 ||
        store.error().message().find("database is locked") == std::string::npos) {
      return store;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
  }
}

Result<std::unique_ptr<Store>> Store::OpenExisting(const std::string& path) {
  if (Status s = CheckDatabasePath(path, /*must_exist=*/true); !s.ok()) return Error(s);
  if (Writable(path)) return Open(path);
  auto store = OpenOnce(path, SQLite::OPEN_READONLY);
  if (store || store.error().code() == StatusCode::kInvalidArgument) return store;
  // A WAL database is read through its shared-memory file, which a user who may not write the
  // folder cannot create. Without that file no writer is active: read it as an unchanging file.
  std::string uri = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    uri += std::isalnum(c) || std::strchr("/-._~", c) ? std::string(1, static_cast<char>(c))
                                                       : fmt::format("%{:02X}", c);
  }
  auto immutable = OpenOnce(uri + "?immutable=1", SQLite::OPEN_READONLY | SQLite::OPEN_URI);
  return immutable ? std::move(immutable) : std::move(store);
}

Result<std::unique_ptr<Store>> Store::OpenOnce(const std::string& path, int flags) {
  const bool read_only = (flags & SQLite::OPEN_READONLY) != 0;
  try {
    auto db = std::make_unique<SQLite::Database>(path, flags | SQLite::OPEN_FULLMUTEX);
    db->setBusyTimeout(10000);
    if (!read_only) {
      db->exec("PRAGMA journal_mode=WAL");
      db->exec("PRAGMA synchronous=FULL");
    }
    db->exec("PRAGMA foreign_keys=ON");
    int version = db->execAndGet("PRAGMA user_version").getInt();
    if (version > kSchemaVersion) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: database schema version {} is newer than this kswarm's ({})",
                               path, version, kSchemaVersion));
    }
    if (version == 0 && read_only) {
      return Error(StatusCode::kInvalidArgument, fmt::format("{}: not a kswarm database", path));
    }
    if (version < kSchemaVersion && read_only) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: schema version {} needs upgrading to {}, and this user may "
                               "not write the file or its folder",
                               path, version, kSchemaVersion));
    }
    if (version < kSchemaVersion) {
      // Several processes may open a new file at once: the first to take the write lock creates
      // or migrates the schema, the others find it done. Read again under the lock.
      SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
      version = db->execAndGet("PRAGMA user_version").getInt();
      if (version == 0 && (db->tableExists("runs") || db->tableExists("evaluations"))) {
        return Error(StatusCode::kInvalidArgument,
                     fmt::format("{}: not a kswarm database (tables exist, no schema version)",
                                 path));
      }
      if (version < 1) db->exec(kSchemaV1);
      if (version < 2) db->exec(kMigrateV2);
      if (version < 3) db->exec(kMigrateV3);
      if (version < 4) db->exec(kMigrateV4);
      if (version < 5) db->exec(kMigrateV5);
      if (version < 6) db->exec(kMigrateV6);
      if (version < 7) db->exec(kMigrateV7);
      if (version < 8) db->exec(kMigrateV8);
      if (version < 9) db->exec(kMigrateV9);
      db->exec(fmt::format("PRAGMA user_version={}", kSchemaVersion));
      tx.commit();
    }
    return std::unique_ptr<Store>(new Store(std::move(db)));
  } catch (const SQLite::Exception& e) {
    StatusCode code = e.getErrorCode() == SQLITE_NOTADB ? StatusCode::kInvalidArgument
                                                        : StatusCode::kIoError;
    return Error(code, fmt::format("{}: cannot open database: {}", path, e.what()));
  }
}

Result<int64_t> Store::CreateRun(const std::string& name, const std::string& command,
                                 const std::string& config_json) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_,
                        "INSERT INTO runs(name, command, started_at, status, config_json) "
                        "VALUES(?, ?, ?, 'running', ?)");
    q.bind(1, name);
    q.bind(2, command);
    q.bind(3, NowUtc());
    BindTextOrNull(q, 4, config_json);
    q.exec();
    return db_->getLastInsertRowid();
  } catch (const std::exception& e) {
    return Error(DbError(e, "create run"));
  }
}

Status Store::FinishRun(int64_t run_id, const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?");
    q.bind(1, NowUtc());
    q.bind(2, status);
    q.bind(3, run_id);
    q.exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return DbError(e, "finish run");
  }
}

Status Store::ReopenRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_,
                        "UPDATE runs SET finished_at = NULL, status = 'running' WHERE id = ?");
    q.bind(1, run_id);
    q.exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return DbError(e, "reopen run");
  }
}

Result<int64_t> Store::UpsertProblem(const ProblemRecord& p) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement find(*db_,
                           "SELECT id FROM problems WHERE source_sha256 = ? AND path = ?");
    find.bind(1, p.source_sha256);
    find.bind(2, p.path);
    if (find.executeStep()) return find.getColumn(0).getInt64();
    SQLite::Statement q(*db_,
                        "INSERT INTO problems(name, path, level, source, source_sha256, "
                        "first_seen_at) VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(1, p.name);
    q.bind(2, p.path);
    if (p.level) {
      q.bind(3, *p.level);
    } else {
      q.bind(3);
    }
    q.bind(4, p.source);
    q.bind(5, p.source_sha256);
    q.bind(6, NowUtc());
    q.exec();
    return db_->getLastInsertRowid();
  } catch (const std::exception& e) {
    return Error(DbError(e, "record problem"));
  }
}

Result<int64_t> Store::UpsertCandidate(const CandidateRecord& c) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement find(*db_,
                           "SELECT id FROM candidates WHERE problem_id = ? AND sha256 = ? AND "
                           "generator = ?");
    find.bind(1, c.problem_id);
    find.bind(2, c.sha256);
    find.bind(3, c.generator);
    if (find.executeStep()) return find.getColumn(0).getInt64();
    SQLite::Statement q(*db_,
                        "INSERT INTO candidates(problem_id, source, sha256, generator, path, "
                        "created_at) VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(1, c.problem_id);
    q.bind(2, c.source);
    q.bind(3, c.sha256);
    q.bind(4, c.generator);
    BindTextOrNull(q, 5, c.path);
    q.bind(6, NowUtc());
    q.exec();
    return db_->getLastInsertRowid();
  } catch (const std::exception& e) {
    return Error(DbError(e, "record candidate"));
  }
}

Result<int64_t> Store::RecordEvaluation(const EvaluationRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement q(*db_, R"sql(
      INSERT INTO evaluations(run_id, problem_id, candidate_id, outcome, message, trials,
        trials_run, tolerance, shapes, seed, max_abs_err, max_rel_err,
        baseline_median_ms, baseline_iqr_ms, baseline_min_ms, baseline_count,
        candidate_median_ms, candidate_iqr_ms, candidate_min_ms, candidate_count, speedup,
        failure_json, phase_ms_json, wall_ms, device_type, device_name, driver, torch_version,
        cuda_version, python_version, triton_version, worker_version, device_json,
        backend_flags_json, cache_key, created_at, attempt, flags_json, purpose, isolation)
      VALUES(:run_id, :problem_id, :candidate_id, :outcome, :message, :trials,
        :trials_run, :tolerance, :shapes, :seed, :max_abs_err, :max_rel_err,
        :baseline_median_ms, :baseline_iqr_ms, :baseline_min_ms, :baseline_count,
        :candidate_median_ms, :candidate_iqr_ms, :candidate_min_ms, :candidate_count, :speedup,
        :failure_json, :phase_ms_json, :wall_ms, :device_type, :device_name, :driver,
        :torch_version, :cuda_version, :python_version, :triton_version, :worker_version,
        :device_json, :backend_flags_json, :cache_key, :created_at, :attempt, :flags_json, :purpose,
        :isolation))sql");
    const core::Evaluation& e = r.evaluation;
    const core::Environment& env = r.environment;
    q.bind(":run_id", r.run_id);
    q.bind(":problem_id", r.problem_id);
    q.bind(":candidate_id", r.candidate_id);
    q.bind(":outcome", std::string(core::OutcomeName(e.outcome)));
    q.bind(":message", e.message);
    q.bind(":trials", r.settings.trials);
    q.bind(":trials_run", e.trials_run);
    q.bind(":tolerance", std::string(core::ToleranceName(r.settings.tolerance)));
    q.bind(":shapes", r.settings.shapes);
    q.bind(":seed", static_cast<int64_t>(e.seed));
    BindOptional(q, ":max_abs_err", e.max_abs_err);
    BindOptional(q, ":max_rel_err", e.max_rel_err);
    for (const auto& [prefix, timing] :
         {std::pair{std::string(":baseline"), e.baseline},
          std::pair{std::string(":candidate"), e.candidate}}) {
      BindOptional(q, (prefix + "_median_ms").c_str(),
                   timing ? std::optional(timing->median_ms) : std::nullopt);
      BindOptional(q, (prefix + "_iqr_ms").c_str(),
                   timing ? std::optional(timing->iqr_ms) : std::nullopt);
      BindOptional(q, (prefix + "_min_ms").c_str(),
                   timing ? std::optional(timing->min_ms) : std::nullopt);
      BindOptional(q, (prefix + "_count").c_str(),
                   timing ? std::optional(timing->count) : std::nullopt);
    }
    BindOptional(q, ":speedup", e.Speedup());
    BindTextOrNull(q, ":failure_json", e.failure_json);
    BindTextOrNull(q, ":phase_ms_json", e.phase_ms_json);
    BindTextOrNull(q, ":flags_json", e.flags_json);
    q.bind(":wall_ms", e.wall_ms);
    q.bind(":device_type", env.device_type);
    q.bind(":device_name", env.device_name);
    BindTextOrNull(q, ":driver", env.driver);
    q.bind(":torch_version", env.torch_version);
    BindTextOrNull(q, ":cuda_version", env.cuda_version);
    BindTextOrNull(q, ":python_version", env.python_version);
    BindTextOrNull(q, ":triton_version", env.triton_version);
    BindTextOrNull(q, ":worker_version", env.worker_version);
    BindTextOrNull(q, ":device_json", env.device_json);
    BindTextOrNull(q, ":backend_flags_json", env.backend_flags_json);
    BindTextOrNull(q, ":isolation", env.isolation);
    q.bind(":cache_key", r.cache_key);
    q.bind(":created_at", NowUtc());
    q.bind(":attempt", r.attempt);
    q.bind(":purpose", r.purpose);
    q.exec();
    int64_t id = db_->getLastInsertRowid();
    tx.commit();
    return id;
  } catch (const std::exception& e) {
    return Error(DbError(e, "record evaluation"));
  }
}

Result<std::optional<EvaluationRecord>> Store::FindCached(const std::string& cache_key,
                                                         std::optional<int64_t> run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, std::string(kSelectEvaluations) +
                                  "WHERE e.cache_key = ? AND e.outcome != 'timeout' "
                                  "AND e.purpose = 'candidate' AND (? IS NULL OR e.run_id = ?) "
                                  "ORDER BY e.id DESC LIMIT 1");
    q.bind(1, cache_key);
    BindOptional(q, 2, run_id);
    BindOptional(q, 3, run_id);
    if (!q.executeStep()) return std::optional<EvaluationRecord>();
    return std::optional<EvaluationRecord>(ReadEvaluation(q));
  } catch (const std::exception& e) {
    return Error(DbError(e, "look up evaluation"));
  }
}

Result<std::optional<EvaluationRecord>> Store::GetEvaluation(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, std::string(kSelectEvaluations) + "WHERE e.id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<EvaluationRecord>();
    return std::optional<EvaluationRecord>(ReadEvaluation(q));
  } catch (const std::exception& e) {
    return Error(DbError(e, "read evaluation"));
  }
}

namespace {

RunRecord ReadRun(SQLite::Statement& q) {
  RunRecord r;
  r.id = q.getColumn("id").getInt64();
  r.name = q.getColumn("name").getString();
  r.command = q.getColumn("command").getString();
  r.status = q.getColumn("status").getString();
  r.started_at = q.getColumn("started_at").getString();
  r.finished_at = Text(q.getColumn("finished_at"));
  r.config_json = Text(q.getColumn("config_json"));
  return r;
}

std::optional<int64_t> OptId(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

}  // namespace

Result<std::optional<RunRecord>> Store::NewestRunWhere(const char* column,
                                                      const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(
        *db_, fmt::format("SELECT * FROM runs WHERE {} = ? ORDER BY id DESC LIMIT 1", column));
    q.bind(1, value);
    if (!q.executeStep()) return std::optional<RunRecord>();
    return std::optional<RunRecord>(ReadRun(q));
  } catch (const std::exception& e) {
    return Error(DbError(e, "find run"));
  }
}

Result<std::optional<RunRecord>> Store::FindRun(const std::string& name) {
  return NewestRunWhere("name", name);
}

Result<std::optional<RunRecord>> Store::LatestRun(const std::string& command) {
  return NewestRunWhere("command", command);
}

Result<std::optional<RunRecord>> Store::GetRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT * FROM runs WHERE id = ?");
    q.bind(1, run_id);
    if (!q.executeStep()) return std::optional<RunRecord>();
    return std::optional<RunRecord>(ReadRun(q));
  } catch (const std::exception& e) {
    return Error(DbError(e, "get run"));
  }
}

Status Store::PutRunProblem(const RunProblemRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, R"sql(
      INSERT OR REPLACE INTO run_problems(run_id, problem_id, position, status, message,
        best_evaluation_id, compile_evaluation_id, eager_ms, compile_ms, best_ms, speedup,
        speedup_vs_compile, wall_ms, recheck_evaluation_id, speedup_low, speedup_high)
      VALUES(:run_id, :problem_id, :position, :status, :message, :best, :compile, :eager_ms,
        :compile_ms, :best_ms, :speedup, :speedup_vs_compile, :wall_ms, :recheck, :low, :high))sql");
    q.bind(":run_id", r.run_id);
    q.bind(":problem_id", r.problem_id);
    q.bind(":position", r.position);
    q.bind(":status", r.status);
    BindTextOrNull(q, ":message", r.message);
    BindOptional(q, ":best", r.best_evaluation_id);
    BindOptional(q, ":compile", r.compile_evaluation_id);
    BindOptional(q, ":recheck", r.recheck_evaluation_id);
    BindOptional(q, ":eager_ms", r.eager_ms);
    BindOptional(q, ":compile_ms", r.compile_ms);
    BindOptional(q, ":best_ms", r.best_ms);
    BindOptional(q, ":speedup", r.speedup);
    BindOptional(q, ":speedup_vs_compile", r.speedup_vs_compile);
    BindOptional(q, ":low", r.speedup_low);
    BindOptional(q, ":high", r.speedup_high);
    q.bind(":wall_ms", r.wall_ms);
    q.exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return DbError(e, "record problem verdict");
  }
}

Status Store::PutDecisions(int64_t run_id, int64_t problem_id,
                           const std::vector<DecisionRecord>& decisions) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement clear(*db_, "DELETE FROM decisions WHERE run_id = ? AND problem_id = ?");
    clear.bind(1, run_id);
    clear.bind(2, problem_id);
    clear.exec();
    SQLite::Statement q(*db_, R"sql(
      INSERT INTO decisions(run_id, problem_id, step, action, candidate_evaluation_id,
        evaluation_id, reason, sigma, speedup, speedup_low, speedup_high, samples)
      VALUES(:run_id, :problem_id, :step, :action, :candidate, :evaluation, :reason, :sigma,
        :speedup, :low, :high, :samples))sql");
    for (const DecisionRecord& d : decisions) {
      q.bind(":run_id", run_id);
      q.bind(":problem_id", problem_id);
      q.bind(":step", d.step);
      q.bind(":action", d.action);
      BindOptional(q, ":candidate", d.candidate_evaluation_id);
      BindOptional(q, ":evaluation", d.evaluation_id);
      q.bind(":reason", d.reason);
      q.bind(":sigma", d.sigma);
      BindOptional(q, ":speedup", d.speedup);
      BindOptional(q, ":low", d.speedup_low);
      BindOptional(q, ":high", d.speedup_high);
      BindOptional(q, ":samples", d.samples);
      q.exec();
      q.reset();
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return DbError(e, "record verdict decisions");
  }
}

Result<std::vector<DecisionRecord>> Store::DecisionsOfRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT * FROM decisions WHERE run_id = ? "
                              "ORDER BY problem_id, step");
    q.bind(1, run_id);
    std::vector<DecisionRecord> out;
    while (q.executeStep()) {
      DecisionRecord d;
      d.problem_id = q.getColumn("problem_id").getInt64();
      d.step = q.getColumn("step").getInt();
      d.action = q.getColumn("action").getString();
      d.candidate_evaluation_id = OptId(q.getColumn("candidate_evaluation_id"));
      d.evaluation_id = OptId(q.getColumn("evaluation_id"));
      d.reason = q.getColumn("reason").getString();
      d.sigma = q.getColumn("sigma").getDouble();
      d.speedup = OptDouble(q.getColumn("speedup"));
      d.speedup_low = OptDouble(q.getColumn("speedup_low"));
      d.speedup_high = OptDouble(q.getColumn("speedup_high"));
      if (!q.getColumn("samples").isNull()) d.samples = q.getColumn("samples").getInt();
      out.push_back(std::move(d));
    }
    return out;
  } catch (const std::exception& e) {
    return Error(DbError(e, "read verdict decisions"));
  }
}

Result<std::vector<RunProblemRecord>> Store::RunProblems(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, R"sql(
      SELECT rp.*, p.name AS problem_name, p.level AS problem_level, p.path AS problem_path,
             p.source_sha256 AS problem_sha256
      FROM run_problems rp JOIN problems p ON p.id = rp.problem_id
      WHERE rp.run_id = ? ORDER BY rp.position)sql");
    q.bind(1, run_id);
    std::vector<RunProblemRecord> out;
    while (q.executeStep()) {
      RunProblemRecord r;
      r.run_id = q.getColumn("run_id").getInt64();
      r.problem_id = q.getColumn("problem_id").getInt64();
      r.position = q.getColumn("position").getInt();
      r.status = q.getColumn("status").getString();
      r.message = Text(q.getColumn("message"));
      r.best_evaluation_id = OptId(q.getColumn("best_evaluation_id"));
      r.compile_evaluation_id = OptId(q.getColumn("compile_evaluation_id"));
      r.recheck_evaluation_id = OptId(q.getColumn("recheck_evaluation_id"));
      r.eager_ms = OptDouble(q.getColumn("eager_ms"));
      r.compile_ms = OptDouble(q.getColumn("compile_ms"));
      r.best_ms = OptDouble(q.getColumn("best_ms"));
      r.speedup = OptDouble(q.getColumn("speedup"));
      r.speedup_vs_compile = OptDouble(q.getColumn("speedup_vs_compile"));
      r.speedup_low = OptDouble(q.getColumn("speedup_low"));
      r.speedup_high = OptDouble(q.getColumn("speedup_high"));
      r.wall_ms = q.getColumn("wall_ms").isNull() ? 0 : q.getColumn("wall_ms").getDouble();
      r.problem_name = q.getColumn("problem_name").getString();
      r.problem_path = q.getColumn("problem_path").getString();
      r.problem_sha256 = q.getColumn("problem_sha256").getString();
      if (!q.getColumn("problem_level").isNull()) r.level = q.getColumn("problem_level").getInt();
      out.push_back(std::move(r));
    }
    return out;
  } catch (const std::exception& e) {
    return Error(DbError(e, "read run problems"));
  }
}

Result<std::vector<EvaluationRecord>> Store::EvaluationsOfRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_,
                        std::string(kSelectEvaluations) + "WHERE e.run_id = ? ORDER BY e.id");
    q.bind(1, run_id);
    std::vector<EvaluationRecord> out;
    while (q.executeStep()) out.push_back(ReadEvaluation(q));
    return out;
  } catch (const std::exception& e) {
    return Error(DbError(e, "read evaluations"));
  }
}

Result<std::optional<CandidateRecord>> Store::GetCandidate(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT * FROM candidates WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<CandidateRecord>();
    CandidateRecord c;
    c.problem_id = q.getColumn("problem_id").getInt64();
    c.source = q.getColumn("source").getString();
    c.sha256 = q.getColumn("sha256").getString();
    c.generator = q.getColumn("generator").getString();
    c.path = Text(q.getColumn("path"));
    return std::optional<CandidateRecord>(std::move(c));
  } catch (const std::exception& e) {
    return Error(DbError(e, "read candidate"));
  }
}

std::string CacheKey(const std::string& problem_sha256, const std::string& candidate_sha256,
                     const core::Environment& env, const core::EvalSettings& settings) {
  // Fields joined with a separator that cannot appear in them.
  std::string material = fmt::format(
      "v2\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}",
      problem_sha256, candidate_sha256, env.device_type, env.device_name, env.driver,
      env.torch_version, env.cuda_version, env.python_version, env.worker_version,
      env.backend_flags_json, settings.trials, core::ToleranceName(settings.tolerance),
      settings.shapes, settings.static_policy, env.isolation);
  return Sha256Hex(material);
}

}  // namespace kswarm::store

namespace kswarm::store {

Result<int64_t> Store::RecordAgentCall(const AgentCallRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, R"sql(
      INSERT INTO agent_calls (run_id, problem_id, agent, attempt, model, evaluation_id, error,
                               request_json, reply, tokens_in, tokens_out, cost_usd, latency_ms,
                               retries, truncated, created_at, purpose)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
    q.bind(1, r.run_id);
    q.bind(2, r.problem_id);
    q.bind(3, r.agent);
    q.bind(4, r.attempt);
    q.bind(5, r.model);
    if (r.evaluation_id) q.bind(6, *r.evaluation_id); else q.bind(6);
    if (r.error.empty()) q.bind(7); else q.bind(7, r.error);
    q.bind(8, r.request_json);
    q.bind(9, r.reply);
    q.bind(10, r.tokens_in);
    q.bind(11, r.tokens_out);
    q.bind(12, r.cost_usd);
    q.bind(13, r.latency_ms);
    q.bind(14, r.retries);
    q.bind(15, r.truncated ? 1 : 0);
    q.bind(16, NowUtc());
    q.bind(17, r.purpose);
    q.exec();
    return db_->getLastInsertRowid();
  } catch (const SQLite::Exception& e) {
    return Error(StatusCode::kIoError, fmt::format("cannot record a model call: {}", e.what()));
  }
}

Result<std::vector<AgentCallRecord>> Store::AgentCallsOfRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT * FROM agent_calls WHERE run_id = ? ORDER BY id");
    q.bind(1, run_id);
    std::vector<AgentCallRecord> out;
    while (q.executeStep()) {
      AgentCallRecord r;
      r.id = q.getColumn("id").getInt64();
      r.run_id = q.getColumn("run_id").getInt64();
      r.problem_id = q.getColumn("problem_id").getInt64();
      r.agent = q.getColumn("agent").getString();
      r.attempt = q.getColumn("attempt").getInt();
      r.model = q.getColumn("model").getString();
      r.evaluation_id = OptId(q.getColumn("evaluation_id"));
      r.error = Text(q.getColumn("error"));
      r.request_json = q.getColumn("request_json").getString();
      r.reply = q.getColumn("reply").getString();
      r.tokens_in = q.getColumn("tokens_in").getInt64();
      r.tokens_out = q.getColumn("tokens_out").getInt64();
      r.cost_usd = q.getColumn("cost_usd").getDouble();
      r.latency_ms = q.getColumn("latency_ms").getDouble();
      r.retries = q.getColumn("retries").getInt();
      r.truncated = q.getColumn("truncated").getInt() != 0;
      r.purpose = q.getColumn("purpose").getString();
      out.push_back(std::move(r));
    }
    return out;
  } catch (const SQLite::Exception& e) {
    return Error(StatusCode::kIoError, fmt::format("cannot read model calls: {}", e.what()));
  }
}

Result<int64_t> Store::RecordProfile(const ProfileRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, R"sql(
      INSERT INTO profiles (run_id, evaluation_id, agent, tool, metrics_json, summary, error,
                            wall_ms, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
    q.bind(1, r.run_id);
    q.bind(2, r.evaluation_id);
    q.bind(3, r.agent);
    BindTextOrNull(q, 4, r.tool);
    BindTextOrNull(q, 5, r.metrics_json);
    BindTextOrNull(q, 6, r.summary);
    BindTextOrNull(q, 7, r.error);
    q.bind(8, r.wall_ms);
    q.bind(9, NowUtc());
    q.exec();
    return db_->getLastInsertRowid();
  } catch (const SQLite::Exception& e) {
    return Error(StatusCode::kIoError, fmt::format("cannot record a profile: {}", e.what()));
  }
}

Result<std::vector<ProfileRecord>> Store::ProfilesOfRun(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT * FROM profiles WHERE run_id = ? ORDER BY id");
    q.bind(1, run_id);
    std::vector<ProfileRecord> out;
    while (q.executeStep()) {
      ProfileRecord r;
      r.id = q.getColumn("id").getInt64();
      r.run_id = q.getColumn("run_id").getInt64();
      r.evaluation_id = q.getColumn("evaluation_id").getInt64();
      r.agent = q.getColumn("agent").getString();
      r.tool = Text(q.getColumn("tool"));
      r.metrics_json = Text(q.getColumn("metrics_json"));
      r.summary = Text(q.getColumn("summary"));
      r.error = Text(q.getColumn("error"));
      r.wall_ms = q.getColumn("wall_ms").getDouble();
      out.push_back(std::move(r));
    }
    return out;
  } catch (const SQLite::Exception& e) {
    return Error(StatusCode::kIoError, fmt::format("cannot read profiles: {}", e.what()));
  }
}

Result<std::optional<WinnerRecord>> Store::BestWinnerOnOtherDevice(
    const std::string& problem_sha256, const std::string& device_type) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, R"sql(
      SELECT c.source, e.device_type, e.device_name, rp.speedup, r.name
      FROM run_problems rp
      JOIN problems p ON p.id = rp.problem_id
      JOIN evaluations e ON e.id = rp.best_evaluation_id
      JOIN candidates c ON c.id = e.candidate_id
      JOIN runs r ON r.id = rp.run_id
      WHERE p.source_sha256 = ? AND rp.status = 'done' AND e.device_type != ?
      ORDER BY rp.speedup DESC, rp.run_id DESC LIMIT 1)sql");
    q.bind(1, problem_sha256);
    q.bind(2, device_type);
    if (!q.executeStep()) return std::optional<WinnerRecord>();
    WinnerRecord w;
    w.source = q.getColumn(0).getString();
    w.device_type = q.getColumn(1).getString();
    w.device_name = q.getColumn(2).getString();
    w.speedup = q.getColumn(3).isNull() ? 1.0 : q.getColumn(3).getDouble();
    w.run_name = q.getColumn(4).getString();
    return std::optional<WinnerRecord>(std::move(w));
  } catch (const SQLite::Exception& e) {
    return Error(StatusCode::kIoError, fmt::format("cannot read winners: {}", e.what()));
  }
}

}  // namespace kswarm::store
