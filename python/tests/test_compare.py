import json
import math
import os
import subprocess
import sys

import pytest
import torch

from kswarm_worker import compare as compare_mod
from kswarm_worker.compare import TOLERANCES, compare_outputs, flatten_outputs, inputs_unchanged
from kswarm_worker.errors import describe_exception, is_build_error, trim_build_log


def test_identical_outputs_pass_with_zero_error():
    x = torch.randn(4, 5)
    r = compare_outputs([x.clone()], [x], TOLERANCES["seed"])
    assert r.failure is None
    assert r.max_abs_err == 0.0 and r.max_rel_err == 0.0


def test_worst_element_is_reported_with_its_errors():
    ref = torch.zeros(3, 4)
    cand = ref.clone()
    cand[1, 2] = 0.5
    cand[2, 3] = 0.02
    r = compare_outputs([cand], [ref], TOLERANCES["seed"])
    assert r.failure["kind"] == "value"
    assert r.failure["index"] == [1, 2]
    assert r.failure["abs_err"] == pytest.approx(0.5)
    assert "2 of 12 elements" in r.message
    assert "worst at index [1, 2]" in r.message


def test_tolerance_policies_differ_for_fp32_but_not_half():
    ref = torch.ones(100)
    cand = ref + 1e-3
    assert compare_outputs([cand], [ref], TOLERANCES["seed"]).failure is None
    assert compare_outputs([cand], [ref], TOLERANCES["strict"]).failure is not None
    half_ref, half_cand = ref.half(), cand.half()
    assert compare_outputs([half_cand], [half_ref], TOLERANCES["strict"]).failure is None


def test_nan_and_inf_must_sit_in_the_same_places():
    ref = torch.tensor([1.0, float("nan"), float("inf"), 2.0])
    assert compare_outputs([ref.clone()], [ref], TOLERANCES["seed"]).failure is None
    moved = torch.tensor([float("nan"), 1.0, float("inf"), 2.0])
    r = compare_outputs([moved], [ref], TOLERANCES["seed"])
    assert r.failure["kind"] == "nan_inf"
    flipped = torch.tensor([1.0, float("nan"), -float("inf"), 2.0])
    assert compare_outputs([flipped], [ref], TOLERANCES["seed"]).failure["kind"] == "nan_inf"


def test_shape_dtype_and_structure_mismatches():
    ref = torch.randn(2, 3)
    assert compare_outputs([ref.t()], [ref], TOLERANCES["seed"]).failure["kind"] == "shape"
    assert compare_outputs([ref.double()], [ref], TOLERANCES["seed"]).failure["kind"] == "dtype"
    assert compare_outputs([ref, ref], [ref], TOLERANCES["seed"]).failure["kind"] == "structure"


def test_flatten_accepts_nested_tuples_and_rejects_other_things():
    a, b = torch.ones(1), torch.zeros(1)
    assert len(flatten_outputs((a, [b, (a,)]))) == 3
    with pytest.raises(TypeError):
        flatten_outputs({"out": a})
    with pytest.raises(TypeError):
        flatten_outputs(3.0)


def test_inputs_unchanged_detects_writes_and_tolerates_nan():
    x = torch.tensor([1.0, float("nan")])
    assert inputs_unchanged([x, 3], [x.clone(), 3])
    y = x.clone()
    y[0] = 2.0
    assert not inputs_unchanged([y], [x])


def test_build_errors_are_recognised_and_trimmed():
    err = RuntimeError("Error building extension 'k': " + "\n".join(
        [f"line {i}" for i in range(200)] + ["k.cpp:3:5: error: 'foo' was not declared"]))
    assert is_build_error(err)
    text = describe_exception(err)
    assert "error: 'foo' was not declared" in text
    assert len(text.splitlines()) < 80
    assert is_build_error(subprocess.CalledProcessError(1, ["ninja"]))
    assert not is_build_error(ValueError("bad value"))
    log = "\n".join(["noise"] * 500)
    assert len(trim_build_log(log).splitlines()) <= 60


def test_describe_exception_keeps_candidate_frames():
    def candidate_code():
        raise ValueError("index out of range in my kernel")
    try:
        candidate_code()
    except ValueError as e:
        text = describe_exception(e)
    assert "candidate_code" in text
    assert "ValueError: index out of range in my kernel" in text


def _compared_whole_and_in_chunks(monkeypatch, cand, ref, policy="seed"):
    whole = compare_outputs([cand], [ref], TOLERANCES[policy])
    monkeypatch.setattr(compare_mod, "_CHUNK", 7)  # 60 elements: nine chunks, the last short
    return whole, compare_outputs([cand], [ref], TOLERANCES[policy])


@pytest.mark.parametrize("case", ["pass", "worst late", "tie", "nan moved", "inf sign",
                                  "nan in place", "half", "int"])
def test_a_chunked_comparison_decides_and_reports_as_a_whole_one(monkeypatch, case):
    ref = torch.linspace(-3, 3, 60).reshape(6, 10)
    cand = ref + 1e-4
    if case == "worst late":  # two chunks outside the tolerance, the worse one later
        cand[1, 0], cand[5, 8] = ref[1, 0] + 0.1, ref[5, 8] + 0.5
    elif case == "tie":  # the same excess twice: the first element is reported
        ref = torch.ones(6, 10)
        cand = ref.clone()
        cand[0, 3] = cand[4, 3] = 1.5
    elif case == "nan moved":
        ref[2, 2] = float("nan")
        cand[5, 9] = float("nan")
    elif case == "inf sign":
        ref[3, 3], cand[3, 3] = float("inf"), -float("inf")
    elif case == "nan in place":  # NaN and Inf where the reference has them pass
        ref[1, 1] = cand[1, 1] = float("nan")
        ref[4, 4] = cand[4, 4] = float("inf")  # and the relative error is over finite pairs
    elif case == "half":
        ref, cand = ref.half(), ref.half()
        cand[2, 9] += 0.25
    elif case == "int":
        ref = torch.arange(60).reshape(6, 10)
        cand = ref.clone()
        cand[4, 1] += 3
    whole, chunked = _compared_whole_and_in_chunks(monkeypatch, cand, ref)
    assert str(chunked.failure) == str(whole.failure)  # str: NaN equals itself there
    assert chunked.message == whole.message
    assert chunked.max_abs_err == pytest.approx(whole.max_abs_err, rel=1e-6)
    assert chunked.max_rel_err == pytest.approx(whole.max_rel_err, rel=1e-6)
    expected = {"pass": None, "worst late": [5, 8], "tie": [0, 3], "nan moved": [2, 2],
                "inf sign": [3, 3], "nan in place": None, "half": [2, 9], "int": [4, 1]}[case]
    assert (whole.failure or {}).get("index") == expected
    if case == "nan moved":
        assert "(2 of 60 elements)" in whole.message
    if case == "nan in place":
        assert whole.max_rel_err > 0
    if case == "worst late":
        assert "2 of 60 elements" in whole.message and whole.failure["abs_err"] == \
            pytest.approx(0.5, rel=1e-4)


def test_inputs_unchanged_compares_every_chunk_bit_for_bit(monkeypatch):
    monkeypatch.setattr(compare_mod, "_CHUNK", 4)
    x = torch.zeros(3, 5)
    y = x.clone()
    y[2, 4] = -0.0  # the last element of a short last chunk, equal by value but written
    assert inputs_unchanged([x], [x.clone()])
    assert not inputs_unchanged([y], [x])
    assert inputs_unchanged([torch.arange(11)], [torch.arange(11)])
    assert not inputs_unchanged([torch.arange(11)], [torch.arange(11).flip(0)])
    # Compared as the widest integers that tile both: odd byte counts, offsets of views, bool.
    h = torch.arange(3, dtype=torch.float16)  # 6 bytes
    assert inputs_unchanged([h], [h.clone()])
    h2 = h.clone()
    h2[2] = 5
    assert not inputs_unchanged([h2], [h])
    z = torch.arange(13.0)
    assert inputs_unchanged([z[1:]], [z[1:].clone()])  # 4-byte offset against 0
    assert not inputs_unchanged([z[1:]], [z[:-1]])
    b = torch.tensor([True, False, True])
    assert inputs_unchanged([b], [b.clone()]) and not inputs_unchanged([b], [~b])
    n1 = torch.tensor([float("nan")] * 9)
    n2 = n1.clone()
    n2.view(torch.int32)[8] ^= 1  # another NaN, other bits
    assert inputs_unchanged([n1], [n1.clone()]) and not inputs_unchanged([n2], [n1])


_FUSED_CASES = r'''
import json, math, os, sys
import torch
from kswarm_worker import compare, fused_compare
inf, nan = float("inf"), float("nan")
g = torch.Generator().manual_seed(1)
def noisy(n, scale):
    b = torch.randn(n, generator=g)
    return b + scale * torch.randn(n, generator=g), b
cases = {
    "equal": (torch.arange(10.0), torch.arange(10.0)),
    "inside, one block": noisy(100, 1e-4),
    "inside, blocks and a tail": noisy(3 * 4096 + 5, 1e-4),
    "outside in the tail": noisy(2 * 4096 + 3, 0.0),
    "NaN in the candidate": (torch.tensor([1.0, nan, 2.0]), torch.tensor([1.0, 1.0, 2.0])),
    "NaN on both sides": (torch.tensor([1.0, nan]), torch.tensor([1.0, nan])),
    "Inf on both sides": (torch.tensor([inf, 1.0]), torch.tensor([inf, 1.0])),
    "Inf against a number": (torch.tensor([inf, 1.0]), torch.tensor([3.0, 1.0])),
    "difference overflows": (torch.tensor([3e38]), torch.tensor([-3e38])),
    "zero reference": (torch.tensor([1e-3, 0.0]), torch.tensor([0.0, 0.0])),
}
a, b = cases["outside in the tail"]
a[-1] += 1.0
out = {}
for name, (a, b) in cases.items():
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        x, y = a.to(dtype), b.to(dtype)
        out[f"{name} {dtype}"] = [fused_compare.fast_stats(x, y, 1e-2, 1e-2),
                                  compare._fast_stats(x, y, 1e-2, 1e-2)]
print(json.dumps(out))
'''


def test_the_fused_fast_pass_computes_what_the_operations_compute():
    """The CUDA kernel (fused_compare.py) run by Triton's interpreter on the CPU against the
    PyTorch operations: the same decision (finite and inside the tolerance, or to the exact
    pass) and the same errors, on every dtype it serves."""
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH="python")
    proc = subprocess.run([sys.executable, "-c", _FUSED_CASES], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout)
    assert len(results) == 30
    decisions = set()
    for name, (fused, ops) in results.items():
        passes = [math.isfinite(s[0]) and s[2] <= 0 for s in (fused, ops)]
        assert passes[0] == passes[1], name
        decisions.add(passes[0])
        if math.isfinite(ops[0]):
            assert fused == pytest.approx(ops, rel=1e-6, abs=1e-6), name
        else:
            assert not math.isfinite(fused[0]), name
    assert decisions == {True, False}
