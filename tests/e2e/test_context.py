"""Context configurations end to end against the fake LLM server: one model as four swarm members
(none, reference, profile, both) with a profile helper, on the CPU. Each member's stored prompts
carry what its configuration gives it and nothing else; the profile of a real passed candidate,
taken by the product, holds the evaluation's measured numbers and reaches the next attempt through
the helper."""
import json
import sqlite3
import subprocess

import pytest

from conftest import KSWARM, WASTEFUL, wasteful_candidate

REF_MARKER = "REFERENCE_MARKER_4711"
ADVICE = "ADVICE_MARKER: the loop is fused already; vectorize the multiply."


def test_each_configuration_gets_its_context(tmp_path, fake_server):
    right = wasteful_candidate("x * self.w.sum()")
    # Replies come in whatever order the members ask; every one holds a correct candidate and
    # the advice line, so any reply serves a proposal or the helper.
    text = f"{ADVICE}\n```python\n{right}```"
    reply = {"api": "openai", "text": text, "tokens_in": 100, "tokens_out": 50}
    port, log = fake_server([reply] * 12)  # 4 members x 2 attempts, 2 advices, 2 spare
    suite = tmp_path / "level1"
    suite.mkdir()
    (suite / "90_wasteful_scale.py").write_text(WASTEFUL)
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "90_wasteful_scale.cu").write_text(f"// {REF_MARKER}\n__global__ void scale() {{}}\n")
    config = tmp_path / "kswarm.toml"
    config.write_text(f"""
[context]
inductor = false

[[models]]
name = "fake"
api = "openai"
model = "fake-1"
base_url = "http://127.0.0.1:{port}/v1"
attempts = 2
contexts = ["none", "reference", "profile", "both"]
profile_helper = "helper"

[[models]]
name = "helper"
api = "openai"
model = "fake-helper-1"
base_url = "http://127.0.0.1:{port}/v1"
""")
    db = tmp_path / "k.db"
    proc = subprocess.run([KSWARM, "run", str(suite), "--config", str(config), "--models", "fake",
                           "--reference", str(refs), "--name", "ctx", "--agents", "torch_compile",
                           "--device", "cpu", "--shapes", "small", "--trials", "5", "--db", str(db)],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]

    c = sqlite3.connect(db)
    calls = c.execute("""SELECT agent, attempt, purpose, model, request_json, error
                         FROM agent_calls ORDER BY id""").fetchall()
    proposals = {(a, n): json.loads(r) for a, n, p, _, r, _ in calls if p == "propose"}
    advices = {a: (n, m, json.loads(r), e) for a, n, p, m, r, e in calls if p == "profile_advice"}
    members = ["fake", "fake+reference", "fake+profile", "fake+both"]
    assert sorted(proposals) == sorted((m, n) for m in members for n in (1, 2))
    assert sorted(advices) == ["fake+both", "fake+profile"]

    def prompt(agent, attempt):
        return "\n".join(m["content"] for m in proposals[(agent, attempt)]["messages"])

    for member in members:
        has_reference = member in ("fake+reference", "fake+both")
        has_profile = member in ("fake+profile", "fake+both")
        for attempt in (1, 2):
            p = prompt(member, attempt)
            assert (REF_MARKER in p) == has_reference, (member, attempt)
            assert ("## Profile of attempt 1" in p) == (has_profile and attempt == 2), (member, attempt)
            assert (ADVICE in p.split("## Profile of attempt 1")[-1]) == (has_profile and attempt == 2)

    # The profiles: taken by the product from the passed first attempts of the profile members,
    # with the evaluation's measured time in their summary, and that summary in the next prompt.
    profiles = c.execute("""SELECT p.agent, p.tool, p.summary, p.metrics_json, p.error,
                                   e.candidate_median_ms, e.attempt
                            FROM profiles p JOIN evaluations e ON e.id = p.evaluation_id
                            ORDER BY p.id""").fetchall()
    assert sorted(p[0] for p in profiles) == ["fake+both", "fake+profile"]
    for agent, tool, summary, metrics_json, error, median_ms, attempt in profiles:
        assert error is None and tool == "torch.profiler" and attempt == 1
        metrics = json.loads(metrics_json)
        assert metrics["per_call_ms"] == pytest.approx(median_ms)
        assert f"One call takes {median_ms:.4g} ms (the evaluation's median)" in summary
        assert f"{metrics['peaks']['bytes_per_s'] / 1e9:.4g} GB/s" in summary
        assert metrics["work"]["input_bytes"] == 256 * 256 * 4
        assert summary in prompt(agent, 2)  # what the helper read goes in beside its advice
        n, model, request, err = advices[agent]
        assert n == 1 and model == "fake-helper-1" and err is None
        helper_prompt = request["messages"][0]["content"]
        assert summary in helper_prompt and "Raw metrics" in helper_prompt
        assert "class ModelNew" in helper_prompt  # it reads the profiled source
    c.close()

    report = json.loads(subprocess.run([KSWARM, "report", "ctx", "--format", "json", "--db",
                                        str(db)], capture_output=True, text=True,
                                       timeout=60).stdout)
    configs = report["contexts"]["configurations"]
    assert list(configs) == ["none", "reference", "profile", "both"]
    assert sum(report["contexts"]["best_by_level"]["1"].values()) == 1
    usage = report["models"]
    assert usage["fake+profile"]["calls"] == 3  # two proposals and the helper's advice
    assert usage["fake"]["calls"] == 2
    text = subprocess.run([KSWARM, "report", "ctx", "--db", str(db)], capture_output=True,
                          text=True, timeout=60).stdout
    assert "best context configuration by level" in text
