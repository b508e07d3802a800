"""The profiler (kswarm_worker.profile) and torch.compile's code as reference context
(kswarm_worker.inductor_code): real runs on the CPU, and Nsight Compute's CSV as an H200 wrote it."""
import json
import os
import subprocess
import sys

import pytest

from kswarm_worker import profile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GELU = os.path.join(ROOT, "problems", "level1", "07_gelu.py")
GELU_CPP = os.path.join(ROOT, "testing", "candidates", "07_gelu", "cpu_cpp.py")
# ncu --clock-control none --profile-from-start off --csv --page raw --print-units base over two
# calls of x * 2, GELU and a matmul on an H200 (columns cut to those the parser reads).
NCU_CSV = os.path.join(os.path.dirname(__file__), "data", "ncu_h200_mul_gelu_matmul.csv")


def run_module(module, *args, timeout=300):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_ncu_csv_gives_kernels_per_call():
    with open(NCU_CSV) as f:
        report = profile.parse_ncu_csv(f.read(), calls=2)
    assert report["tool"] == "ncu" and report["device_name"] == "NVIDIA H200"
    assert report["launches_per_call"] == 4  # mul, gelu, sgemm, split-K reduce: 8 rows, 2 calls
    names = [k["name"] for k in report["kernels"]]
    assert len(names) == 4 and "sgemm" in names[0]  # the matmul takes longest
    mul = next(k for k in report["kernels"] if "MulFunctor" in k["name"])
    assert mul["launches_per_call"] == 1
    assert mul["grid_size"] == 4096 and mul["block_size"] == 128
    assert mul["dram_read_bytes"] > 16e6  # "16,782,592": thousands separators read
    assert 30 < mul["dram_pct"] < 45 and mul["theoretical_occupancy_pct"] == 100
    total = sum(k["time_ms_per_call"] for k in report["kernels"])
    assert report["kernel_ms_per_call"] == pytest.approx(total)


def test_ncu_summary_reads_the_numbers():
    with open(NCU_CSV) as f:
        report = profile.parse_ncu_csv(f.read(), calls=2)
    report.update(per_call_ms=0.2, per_call_source="the evaluation's median",
                  work={"input_bytes": 16 << 20, "output_bytes": 16 << 20, "flops": 2 << 30},
                  peaks={"bytes_per_s": 4e12, "flops_per_s": 4e14, "cache_bytes": 50 << 20})
    text = profile.summarize(report)
    assert "One call takes 0.2 ms (the evaluation's median)" in text
    assert "4 kernel launches per call" in text
    sgemm = report["kernels"][0]
    assert f"{sgemm['time_ms_per_call'] * 1e3:.4g} us per call" in text
    assert f"DRAM throughput {sgemm['dram_pct']:.3g}% of peak" in text
    assert "memory-bound" in text or "compute-bound" in text


def test_cpu_profile_of_a_real_candidate_holds_its_measured_numbers():
    report = run_module("kswarm_worker.profile", "--problem", GELU, "--candidate", GELU_CPP,
                        "--device", "cpu", "--shapes", "small")
    assert "error" not in report, report.get("error")
    assert report["tool"] == "torch.profiler"
    assert report["per_call_ms"] > 0 and report["per_call_source"] == "median of 10 calls"
    assert report["work"]["input_bytes"] == 64 * 256 * 4  # the small shapes' input
    assert report["peaks"]["bytes_per_s"] > 0
    names = [o["name"] for o in report["ops"]]
    assert profile.OWN_CODE in names  # the load_inline kernel runs outside any aten op
    summary = report["summary"]
    assert f"One call takes {report['per_call_ms']:.4g} ms" in summary
    assert f"{report['peaks']['bytes_per_s'] / 1e9:.4g} GB/s" in summary
    top = report["ops"][0]
    assert f"{top['self_ms_per_call']:.4g} ms ({100 * top['share']:.3g}%)" in summary


def test_profile_reports_a_broken_candidate_as_an_error(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('no')\n")
    report = run_module("kswarm_worker.profile", "--problem", GELU, "--candidate", str(bad),
                        "--device", "cpu", "--shapes", "small")
    assert "no" in report["error"] and report["wall_ms"] > 0


def test_inductor_code_of_a_problem_on_the_cpu():
    reply = run_module("kswarm_worker.inductor_code", "--problem", GELU, "--device", "cpu",
                       "--shapes", "small", timeout=600)
    assert "error" not in reply, reply.get("error")
    code = reply["code"]
    assert "gelu" in code and "#pragma omp" in code  # the fused C++ kernel Inductor wrote
    assert "# kernel path:" not in code and "benchmark_compiled_module" not in code
    assert "def call(" in code
