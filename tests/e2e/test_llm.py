"""kswarm run with an LLM agent against the fake LLM server (testing/fake_llm_server): a scripted
conversation whose first attempt does not compile, whose second is wrong and whose third is
correct and faster, with rate limits and an overloaded server on the way."""
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import KSWARM, WASTEFUL, wasteful_candidate

KEY = "secret-e2e-key-4242"

# The correct candidate also checks that the key never reached the process running it (the key
# spelled in two pieces, so the candidate's source does not hold it).
NO_KEY_CHECK = f"""
import os
assert not any("{KEY[:8]}" + "{KEY[8:]}" in v for v in os.environ.values()), "key leaked"
"""


def reply(text, tokens_in, tokens_out):
    return {"api": "openai", "text": text, "tokens_in": tokens_in, "tokens_out": tokens_out}


def wasteful_suite(tmp_path):
    suite = tmp_path / "level1"
    suite.mkdir()
    (suite / "90_wasteful_scale.py").write_text(WASTEFUL)
    return suite


def test_a_scripted_conversation_reaches_a_correct_faster_candidate(tmp_path, fake_server):
    broken = "class ModelNew(Model):\n    def forward(self, x)\n        return x\n"
    wrong = wasteful_candidate("x * self.w.mean()")
    right = wasteful_candidate("x * self.w.sum()") + NO_KEY_CHECK
    port, log = fake_server([
        {"status": 429, "error_type": "rate_limit_error", "message": "slow down", "retry_after": "1"},
        reply(f"Here is a first version.\n```python\n{broken}```\nIt fuses the loop.", 1000, 200),
        {"status": 529, "error_type": "overloaded_error", "message": "Overloaded"},
        reply(f"Fixed the syntax:\n```python\n{wrong}```", 1500, 300),
        reply(f"```python\n{right}```\nNow it sums the weights.", 2000, 400),
    ])
    suite = wasteful_suite(tmp_path)
    config = tmp_path / "kswarm.toml"
    config.write_text(f"""
[[models]]
name = "fake-gpt"
api = "openai"
model = "fake-gpt-1"
base_url = "http://127.0.0.1:{port}/v1"
key_env = "FAKE_LLM_API_KEY"
usd_per_mtok_in = 1.0
usd_per_mtok_out = 10.0
max_retries = 3
attempts = 3
""")
    db = tmp_path / "k.db"
    env = dict(os.environ, FAKE_LLM_API_KEY=KEY)
    proc = subprocess.run([KSWARM, "run", str(suite), "--config", str(config), "--name", "llm",
                           "--agents", "torch_compile", "--device", "cpu", "--shapes", "small",
                           "--trials", "5", "--db", str(db)],
                          capture_output=True, text=True, timeout=1200, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert KEY not in proc.stdout + proc.stderr

    c = sqlite3.connect(db)
    rows = c.execute("""
        SELECT a.attempt, e.outcome, a.tokens_in, a.tokens_out, a.cost_usd, a.model, a.error
        FROM agent_calls a JOIN evaluations e ON e.id = a.evaluation_id
        WHERE a.agent = 'fake-gpt' ORDER BY a.attempt""").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, "compile_error"), (2, "wrong"), (3, "passed")], rows
    assert [(r[2], r[3]) for r in rows] == [(1000, 200), (1500, 300), (2000, 400)]
    assert rows[0][4] == pytest.approx((1000 * 1 + 200 * 10) / 1e6)
    assert all(r[5] == "fake-gpt-1" and r[6] is None for r in rows)
    winner = c.execute("""
        SELECT k.generator FROM run_problems rp JOIN evaluations e ON e.id = rp.best_evaluation_id
        JOIN candidates k ON k.id = e.candidate_id""").fetchone()
    assert winner == ("fake-gpt",)
    stored = c.execute("SELECT request_json || reply FROM agent_calls").fetchall()
    assert not any(KEY in s for (s,) in stored)
    c.close()

    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(requests) == 5  # two of them answered with an error and retried
    third = json.loads(requests[-1]["body"])
    turns = third["messages"]
    assert [m["role"] for m in turns] == ["developer", "user", "assistant", "user", "assistant",
                                          "user"]
    assert "Attempt 1 failed: compile_error" in turns[3]["content"]
    assert "Attempt 2 failed: wrong" in turns[5]["content"]
    assert "class Model" in turns[1]["content"] and "OpenMP" in turns[1]["content"]

    summary = json.loads(subprocess.run([KSWARM, "report", "llm", "--format", "json", "--db",
                                         str(db)], capture_output=True, text=True,
                                        timeout=60).stdout)
    usage = summary["models"]["fake-gpt"]
    assert usage["calls"] == 3 and usage["tokens_in"] == 4500 and usage["tokens_out"] == 900
    assert usage["correct_candidates"] == 1
    assert summary["correct_by_attempt"]["1"] == [0.0, 0.0, 1.0]
    html = subprocess.run([KSWARM, "report", "llm", "--format", "html", "--db", str(db)],
                          capture_output=True, text=True, timeout=60).stdout
    assert "LLM agents: correct by attempt" in html and "fake-gpt" in html


def test_a_dead_endpoint_is_reported_and_the_run_finishes(tmp_path, fake_server):
    port, _ = fake_server([{"status": 503, "error_type": "unavailable", "message": "down"}] * 3)
    suite = wasteful_suite(tmp_path)
    config = tmp_path / "kswarm.toml"
    config.write_text(f"""
[[models]]
name = "flaky"
api = "anthropic"
model = "m"
base_url = "http://127.0.0.1:{port}/v1"
max_retries = 1
""")
    db = tmp_path / "k.db"
    proc = subprocess.run([KSWARM, "run", str(suite), "--config", str(config), "--name", "dead",
                           "--agents", "torch_compile", "--device", "cpu", "--shapes", "small",
                           "--trials", "5", "--db", str(db)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "gave up after 2 tries" in proc.stderr
    c = sqlite3.connect(db)
    assert c.execute("SELECT status FROM runs").fetchone() == ("finished",)
    errors = c.execute("SELECT error FROM agent_calls WHERE agent = 'flaky'").fetchall()
    assert len(errors) == 1 and "HTTP 503" in errors[0][0]


def test_doctor_checks_each_endpoint_with_one_call(tmp_path, fake_server):
    port, log = fake_server([
        {"api": "anthropic", "text": "ok", "tokens_in": 12, "tokens_out": 1},
        {"status": 401, "error_type": "authentication_error", "message": "invalid x-api-key"},
    ])
    config = tmp_path / "kswarm.toml"
    config.write_text(f"""
[[models]]
name = "good"
api = "anthropic"
model = "m"
base_url = "http://127.0.0.1:{port}/v1"

[[models]]
name = "bad-key"
api = "openai"
model = "m"
base_url = "http://127.0.0.1:{port}/v1"
""")
    proc = subprocess.run([KSWARM, "doctor", "--config", str(config)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("good") and " ok " in lines[0] and "12 tokens in" in lines[0]
    assert lines[1].startswith("bad-key") and "FAIL" in lines[1] and "HTTP 401" in lines[1]


# A built-in's candidates run as kswarm's own recipes (shared compiler caches), so a model, whose
# candidates are hostile, may not take a built-in's name, listed or a combination of recipes.
@pytest.mark.parametrize("name", ["channels_last", "fold_batchnorm+torch_compile"])
def test_a_model_named_like_a_builtin_agent_is_refused(tmp_path, name):
    suite = wasteful_suite(tmp_path)
    config = tmp_path / "kswarm.toml"
    config.write_text(f"""
[[models]]
name = "{name}"
api = "anthropic"
model = "m"
base_url = "http://127.0.0.1:9/v1"
""")
    proc = subprocess.run([KSWARM, "run", str(suite), "--config", str(config), "--agents",
                           "torch_compile", "--device", "cpu", "--shapes", "small",
                           "--db", str(tmp_path / "k.db")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert f"model '{name}' has the name of another agent" in proc.stderr
