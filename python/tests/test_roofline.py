"""The speed-of-light check: work counting, the bound, and when it flags."""
import os

import torch

from conftest import ROOT
from kswarm_worker import roofline
from kswarm_worker.compare import flatten_outputs

PEAKS = {"bytes_per_s": 1e9, "flops_per_s": 1e12, "cache_bytes": 1 << 20}


def test_work_of_a_matmul_is_its_bytes_and_2mnk_flops():
    a, b = torch.randn(64, 32), torch.randn(32, 16)
    outs, work = roofline.count_work(lambda x, y: x @ y, [a, b], flatten_outputs)
    assert torch.equal(outs[0], a @ b)
    assert work == {"input_bytes": 4 * (64 * 32 + 32 * 16), "output_bytes": 4 * 64 * 16,
                    "flops": 2 * 64 * 32 * 16}


def test_bound_is_the_larger_of_memory_and_compute_over_the_slack():
    memory = {"input_bytes": 4_000_000, "output_bytes": 0, "flops": 10}
    assert abs(roofline.bound_ms(memory, PEAKS) - 4.0 / roofline.SLACK) < 1e-12
    compute = {"input_bytes": 8, "output_bytes": 8, "flops": 8_000_000_000}
    assert abs(roofline.bound_ms(compute, PEAKS) - 8.0 / roofline.SLACK) < 1e-12
    # Outputs count only beyond the cache (they may still sit there when the timer stops).
    big_out = {"input_bytes": 0, "output_bytes": (1 << 20) + 4_000_000, "flops": 0}
    assert abs(roofline.bound_ms(big_out, PEAKS) - 4.0 / roofline.SLACK) < 1e-12


def test_flags_only_a_candidate_below_the_bound_when_eager_is_above_it():
    work = {"input_bytes": 4_000_000, "output_bytes": 0, "flops": 0}  # bound 1 ms
    flag = roofline.check(work, PEAKS, candidate_ms=0.1, eager_ms=3.0)
    assert flag and flag.startswith("faster than the device allows: 0.1 ms")
    assert roofline.check(work, PEAKS, candidate_ms=1.5, eager_ms=3.0) is None
    # Eager itself beats the bound: the model does not fit this problem, nothing is flagged.
    assert roofline.check(work, PEAKS, candidate_ms=0.1, eager_ms=0.5) is None


def test_measured_cpu_peaks_are_plausible_and_measured_once():
    peaks = roofline.measure_peaks("cpu", "cpu")
    assert 1e8 < peaks["bytes_per_s"] < 1e13
    assert 1e8 < peaks["flops_per_s"] < 1e15
    assert roofline.measure_peaks("cpu", "cpu") is peaks


def test_the_cpu_copy_exceeds_the_cache_within_a_share_of_free_memory(monkeypatch):
    # A VM may report its host's whole L3; the copy stays at most 1 GiB and an eighth of what is
    # free (sysconf: 4 KiB pages).
    pages = {"SC_PAGE_SIZE": 4096, "SC_AVPHYS_PAGES": (64 << 30) // 4096}
    monkeypatch.setattr(roofline.os, "sysconf", lambda name: pages[name])
    mib = 1 << 20
    assert roofline._cpu_copy_bytes(8 * mib) == 64 * mib
    assert roofline._cpu_copy_bytes(100 * mib) == 200 * mib
    assert roofline._cpu_copy_bytes(480 * mib) == 960 * mib
    assert roofline._cpu_copy_bytes(4096 * mib) == 1024 * mib
    pages["SC_AVPHYS_PAGES"] = (2 << 30) // 4096  # 2 GiB free
    assert roofline._cpu_copy_bytes(480 * mib) == 256 * mib
