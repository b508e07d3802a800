"""Shape sets of the bundled problems (inputs.load_problem), what an evaluation of each holds
at its large shapes (inputs.footprint), worked out without allocating, and the input
distributions trials cycle through (inputs.draw_inputs)."""
import glob
import os

import pytest
import torch

from conftest import ROOT
from kswarm_worker import inputs
from kswarm_worker.errors import ProblemError

BUNDLED = sorted(glob.glob(os.path.join(ROOT, "problems", "level*", "*.py")))


def test_every_bundled_problem_has_small_and_large_shapes_of_its_own_constants():
    assert len(BUNDLED) == 42
    for path in BUNDLED:
        for shapes, attr in inputs.SHAPE_SETS.items():
            module = inputs.load_problem(path, shapes, str)  # raises on a name that is no constant
            assert isinstance(getattr(module, attr, None), dict), (path, attr)


def test_large_shapes_are_the_public_benchmarks_sizes_and_fit_one_h100():
    gelu = os.path.join(ROOT, "problems", "level1", "07_gelu.py")
    module = inputs.load_problem(gelu, "large", str)
    assert (module.rows, module.cols) == (4096, 393216)
    assert inputs.load_problem(gelu, "full", str).cols == 4096
    for path in BUNDLED:
        module = inputs.load_problem(path, "large", str)
        need = inputs.footprint(module, inputs.init_inputs(module, path, str))
        assert need is not None, path  # every bundled problem runs on the meta device
        assert need.total < 75 * 2**30, (path, need)  # an H100 has 80 GB


def test_check_fits_returns_the_footprint_that_out_of_memory_blames_by(tmp_path):
    # It once returned None: every judge out of memory then measured the candidate against a
    # share of 0 bytes, and an honest candidate beside a large problem was blamed.
    gelu = os.path.join(ROOT, "problems", "level1", "07_gelu.py")
    module = inputs.load_problem(gelu, "full", str)
    init = inputs.init_inputs(module, gelu, str)
    need = inputs.check_fits(module, init, gelu, "full", "cpu", "cpu")
    assert need == inputs.footprint(module, init)
    assert need.sandbox >= 4 * 8192 * 4096 * 4  # inputs twice, the output and its snapshot


def test_a_shape_set_naming_something_that_is_no_constant_is_the_problems_error(tmp_path):
    problem = tmp_path / "p.py"
    problem.write_text("import torch, torch.nn as nn\nn = 8\n"
                       "class Model(nn.Module):\n    def forward(self, x):\n        return x\n"
                       "def get_inputs():\n    return [torch.randn(n)]\n"
                       "def get_init_inputs():\n    return []\n"
                       "KSWARM_LARGE_SHAPES = {'m': 9}\n")
    with pytest.raises(ProblemError, match="KSWARM_LARGE_SHAPES names 'm'"):
        inputs.load_problem(str(problem), "large", str)
    assert inputs.load_problem(str(problem), "full", str).n == 8


@pytest.mark.parametrize("held_gib, share_gib, blamed", [
    (0, 20, "problem"),       # the candidate held nothing: the problem is too large as evaluated
    (20, 20, "problem"),      # its share
    (41, 20, "problem"),      # twice its share and less than 2 GiB besides: cuDNN workspaces
    (43, 20, "candidate"),    # more: it starved the judge
    (2.5, 0, "candidate"),    # a problem of no size, a candidate holding 2.5 GiB
    (70, 0.001, "candidate"),  # a hog on a small problem
])
def test_the_judge_out_of_memory_is_the_candidates_only_when_it_held_far_more_than_its_share(
        held_gib, share_gib, blamed):
    assert inputs.memory_blame(int(held_gib * 2**30), int(share_gib * 2**30)) == blamed


@pytest.mark.parametrize("free_gib, share_gib, holds", [
    (0.5, 20, True),     # the device was full: the sandbox's own work can have failed
    (20.9, 20, True),    # less free than its share and the allocator's gigabyte
    (21.1, 20, False),   # room for all its work: the report was written, not true
    (70, 0.001, False),  # a small problem on an empty device
    (0.9, 0, True),
])
def test_a_sandbox_out_of_memory_report_holds_only_when_the_device_had_no_room_for_its_work(
        free_gib, share_gib, holds):
    assert inputs.memory_claim_holds(int(free_gib * 2**30), int(share_gib * 2**30)) == holds


class _Signed:
    @staticmethod
    def get_inputs():
        return [3 * torch.randn(10000), torch.rand(10000), torch.randint(0, 5, (100,)),
                torch.randn(10000, dtype=torch.bfloat16), 7]


@pytest.mark.parametrize("kind, signed_range, nonneg_range, signed_mean", [
    ("own", None, (0, 1), (-0.1, 0.1)),
    ("uniform", "scale", (0, 1), (-0.5, 0.5)),  # uniform over [-s, s] or [0, s], s the own max
    ("shifted", None, None, (0.5, 10)),  # half the own draw plus half (a quarter) of s
])
def test_each_distribution_moves_float_inputs_as_documented(kind, signed_range, nonneg_range,
                                                            signed_mean):
    a = inputs.draw_inputs(_Signed, 5, "cpu", "p.py", str, kind)
    b = inputs.draw_inputs(_Signed, 5, "cpu", "p.py", str, kind)
    assert all(torch.equal(x, y) for x, y in zip(a[:4], b[:4])) and a[4] == 7  # seeded
    own = inputs.draw_inputs(_Signed, 5, "cpu", "p.py", str, "own")
    assert torch.equal(a[2], own[2])  # integers are left alone
    assert a[3].dtype == torch.bfloat16
    scale = float(own[0].abs().max())
    if signed_range == "scale":
        assert float(a[0].min()) >= -scale and float(a[0].max()) <= scale
        assert float(a[0].min()) < -scale / 2  # both signs, across the range
    if nonneg_range:
        assert float(a[1].min()) >= nonneg_range[0] and float(a[1].max()) <= nonneg_range[1]
    assert signed_mean[0] < float(a[0].mean()) < signed_mean[1]
    if kind == "shifted":
        assert torch.allclose(a[0], own[0] * 0.5 + 0.5 * scale)
        assert torch.allclose(a[1], own[1] * 0.5 + 0.25 * float(own[1].max()))


def test_the_generators_a_draw_seeds_are_watched(monkeypatch):
    """A candidate that swaps the generator seed_generators seeds (so that the draw seeds an
    object of its own and the inputs come out as it chooses) is named by the integrity check."""
    from kswarm_worker import guards
    integrity = guards.Integrity([inputs])
    monkeypatch.setattr(torch.random, "default_generator", torch.Generator())
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: None)
    changed = integrity.changed()
    assert "torch.random.default_generator" in changed and "torch.cuda.manual_seed" in changed
    monkeypatch.undo()
    assert integrity.changed() == []
