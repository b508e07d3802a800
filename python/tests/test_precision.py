"""Precision honesty: the error against float64 that labels a candidate reduced precision, and the
global settings and active state the sandbox watches."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from kswarm_worker import guards, precision


def _tf32(x):
    """x with its mantissa rounded to TF32's 10 bits."""
    i = x.contiguous().view(torch.int32)
    return ((i + 0x1000) & ~0x1FFF).view(torch.float32)


def test_tf32_and_bf16_are_reduced_precision_but_fp32_and_its_approximations_are_not():
    torch.manual_seed(0)
    lin = nn.Linear(256, 128)
    x = torch.randn(64, 256)
    with torch.no_grad():
        ref = [lin(x)]
        tf32 = [F.linear(_tf32(x), _tf32(lin.weight), lin.bias)]
        bf16 = [F.linear(x.bfloat16(), lin.weight.bfloat16(), lin.bias.bfloat16()).float()]
        reordered = [(x.unsqueeze(1) * lin.weight.unsqueeze(0)).sum(-1) + lin.bias]
    assert precision.check(lin, [x], ref, ref) is None
    assert precision.check(lin, [x], ref, reordered) is None  # another fp32 summation order
    assert precision.check(lin, [x], ref, tf32).startswith("reduced precision")
    assert precision.check(lin, [x], ref, bf16).startswith("reduced precision")

    gelu = nn.GELU()
    y = torch.randn(128, 128)
    approx = [F.gelu(y, approximate="tanh")]  # an fp32 approximation within the tolerance
    assert precision.check(gelu, [y], [gelu(y)], approx) is None


def test_a_reference_that_itself_rounds_sets_the_bar():
    # cuDNN's TF32 convolutions are PyTorch's default: a candidate as coarse as the reference is
    # not singled out.
    assert not precision.finding(2.6e-4, 2.5e-4)
    assert precision.finding(2.6e-4, 1e-7)
    assert not precision.finding(1.2e-4, 1e-7)  # below the line: tanh-GELU's size


def test_a_large_output_is_judged_on_a_random_sample_of_its_elements(monkeypatch):
    exact = torch.randn(100_000, dtype=torch.float64).add_(3.0)
    out = (exact * (1 + 1e-3 * torch.rand(100_000, dtype=torch.float64))).float()
    whole = precision.median_relative_error(out, exact)
    monkeypatch.setattr(precision, "_SAMPLE", 2000)
    sampled = precision.median_relative_error(out, exact)
    assert abs(whole - 5e-4) < 2e-5 and abs(sampled - whole) < 5e-5 and sampled != whole
    assert precision.median_relative_error(exact.float(), exact) < 1e-7  # fp32 rounding only


def test_coarser_global_settings_are_named():
    before = guards.numeric_settings()
    after = dict(before)
    after["torch.backends.cuda.matmul.allow_tf32"] = True
    after["float32 matmul precision"] = "medium"
    changed = guards.coarser_settings(before, after)
    assert any("allow_tf32" in c for c in changed) and any("medium" in c for c in changed)
    assert guards.coarser_settings(before, before) == []
    finer = dict(before, **{"torch.backends.cudnn.allow_tf32": False})
    assert guards.coarser_settings(before, finer) == []  # more precise is no finding


def test_a_mode_or_hook_left_active_is_named():
    before = guards.active_state()

    class Lazy(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    mode = Lazy()
    mode.__enter__()
    handle = nn.modules.module.register_module_forward_hook(lambda *a: None)
    try:
        left = guards.left_active(before, guards.active_state())
        assert "torch function modes" in left and "global module hooks" in left
    finally:
        handle.remove()
        mode.__exit__(None, None, None)
    assert guards.left_active(before, guards.active_state()) == []
