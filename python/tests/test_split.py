"""kswarm optimize's split (kswarm_worker.split, model_parts) and its runtime (kswarm_rt.apply),
on small models defined here: which submodules become problems, that every written problem
computes what its submodule does, and when apply() uses a winner or the original."""

import argparse
import json
import os
import textwrap
import warnings

import pytest
import torch
import torch.nn as nn

from kswarm_rt import apply, parts_of
from kswarm_worker import inputs as inputs_mod
from kswarm_worker import model_parts, split

MODEL = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(c)
            self.skip = nn.Sequential(nn.Conv2d(c, c, 1), nn.ReLU())

        def forward(self, x):
            return F.relu(self.bn(self.conv(x))) + self.skip(x)

    class Gate(nn.Module):  # called with a constant by keyword: a part (exported)
        def __init__(self, c):
            super().__init__()
            self.proj = nn.Linear(c, c)

        def forward(self, x, scale=None):
            return self.proj(x) * scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.blocks = nn.Sequential(Block(8), Block(8))
            self.gate = Gate(8)
            self.head = nn.Linear(8, 4)
            self.drop = nn.Dropout(0.1)  # the identity in eval mode: not a part

        def forward(self, x):
            x = self.blocks(self.stem(x))
            x = self.drop(x.mean((2, 3)))
            return self.head(self.gate(x, scale=2.0))

    batch = 2

    def get_model():
        return Net()

    def get_inputs():
        return [torch.randn(batch, 3, 16, 16)]

    KSWARM_SMALL_SHAPES = {"batch": 1}
''')


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("split")
    model = out / "net.py"
    model.write_text(MODEL)
    # Each block takes about 45% of the time: well under max_share even on a loaded machine.
    args = argparse.Namespace(model=str(model), out=str(out / "out"), device="cpu",
                              shapes="full", max_share=0.75, min_share=0.0, max_parts=24)
    reply = split.split(args)
    return out / "out", reply


def _parts(out):
    return json.loads((out / "parts.json").read_text())


def test_parts_are_the_largest_writable_submodules_and_repeats_are_one_problem(split_dir):
    out, reply = split_dir
    parts = _parts(out)
    by_class = {p["class"].rsplit(".", 1)[-1]: p for p in parts["parts"]}
    # The two identical blocks are one problem standing for both; the container is not a part.
    assert by_class["Block"]["modules"] == ["blocks.0", "blocks.1"]
    assert by_class["Block"]["signature"] == [
        {"shape": [2, 8, 16, 16], "dtype": "float32", "device": "cpu"}]
    assert by_class["Block"]["level"] == 2
    # A module called with a constant by keyword is a part, the constant part of its call.
    assert by_class["Gate"]["modules"] == ["gate"]
    assert by_class["Gate"]["call"] == {"tensors": [0], "constants": [["scale", 2.0]]}
    assert by_class["Block"]["call"] == {"tensors": [0], "constants": []}
    assert any(n.startswith("drop (Dropout") and n.endswith("returns its input unchanged")
               for n in parts["not_parts"])
    assert sorted(m for p in parts["parts"] for m in p["modules"]) == \
        ["blocks.0", "blocks.1", "gate", "head", "stem"]
    assert reply["parts"] == len(parts["parts"])
    assert 0 < parts["covered_share"] <= 1.0001
    for p in parts["parts"]:
        text = (out / p["file"]).read_text()
        assert p["problem_sha256"] == __import__("hashlib").sha256(text.encode()).hexdigest()


def test_every_written_problem_computes_what_its_submodule_does(split_dir):
    out, _ = split_dir
    user = split.load_user_model(str(out.parent / "net.py"), "full")
    torch.manual_seed(0)
    net = user.get_model().eval()
    for p in _parts(out)["parts"]:
        problem = inputs_mod.load_problem(str(out / p["file"]), "full", str)
        model = problem.Model(*problem.get_init_inputs())
        assert not model.training
        original = net.get_submodule(p["modules"][0])
        model.load_state_dict(original.state_dict())  # the same names and shapes
        x = problem.get_inputs()
        assert [list(t.shape) for t in x] == [s["shape"] for s in p["signature"]]
        args, kwargs = _as_called(p, x)
        with torch.no_grad():
            torch.testing.assert_close(model(*x), original(*args, **kwargs))


def _as_called(part: dict, tensors: list):
    """(args, kwargs) of a call of the part's submodule with `tensors` as its inputs."""
    slots = {k: v for k, v in part["call"]["constants"]}
    slots.update(zip(part["call"]["tensors"], tensors))
    positional = sorted(k for k in slots if isinstance(k, int))
    assert positional == list(range(len(positional)))
    return [slots[i] for i in positional], {k: v for k, v in slots.items() if isinstance(k, str)}


def test_the_whole_model_problem_carries_the_model_and_its_shape_set(tmp_path):
    model = tmp_path / "net.py"
    model.write_text(MODEL)
    args = argparse.Namespace(model=str(model), out=str(tmp_path / "out"), device="cpu",
                              shapes="small", max_share=0.5, min_share=0.0, max_parts=24)
    split.split(args)
    model.unlink()  # self-contained: the model's file is not needed any more
    problem = inputs_mod.load_problem(str(tmp_path / "out/whole/problem.py"), "full", str)
    assert [list(t.shape) for t in problem.get_inputs()] == [[1, 3, 16, 16]]
    assert isinstance(problem.Model().model, nn.Module)
    parts = _parts(tmp_path / "out")
    assert all(p["signature"][0]["shape"][0] == 1 for p in parts["parts"])


def test_the_same_split_is_reused_so_the_same_command_resumes_its_run(tmp_path):
    model = tmp_path / "net.py"
    model.write_text(MODEL)
    args = argparse.Namespace(model=str(model), out=str(tmp_path / "out"), device="cpu",
                              shapes="full", max_share=0.5, min_share=0.0, max_parts=24)
    first = split.split(args)
    files = {p: p.read_bytes() for p in (tmp_path / "out/problems").rglob("*.py")}
    again = split.split(args)
    assert (first["reused"], again["reused"]) == (False, True)
    assert {p: p.read_bytes() for p in (tmp_path / "out/problems").rglob("*.py")} == files
    # Other settings, or another model text: split again, and no problem of the old split stays.
    args.max_parts = 1
    assert split.split(args)["reused"] is False
    assert len(list((tmp_path / "out/problems").rglob("*.py"))) == 1
    model.write_text(MODEL + "\n# changed\n")
    assert split.split(args)["reused"] is False


def test_a_model_file_without_get_model_is_a_clear_error(tmp_path):
    model = tmp_path / "bad.py"
    model.write_text("def get_inputs():\n    return []\n")
    with pytest.raises(inputs_mod.ProblemError, match=r"bad.py: defines no function get_model"):
        split.load_user_model(str(model), "full")


@pytest.mark.parametrize("module", [
    nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False),
    nn.LayerNorm(16, eps=1e-6),
    nn.MultiheadAttention(16, 4, batch_first=True),
    nn.Sequential(nn.Linear(4, 4), nn.GELU(approximate="tanh")),
])
def test_torch_nn_modules_are_written_with_their_settings(module, tmp_path):
    source = model_parts.model_source(module)
    path = tmp_path / "m.py"
    path.write_text(source)
    written = inputs_mod.load_module(str(path), "kswarm_test_part_").Model()
    assert {k: v.shape for k, v in written.state_dict().items()} == \
        {k: v.shape for k, v in module.state_dict().items()}
    assert written.__class__.__mro__[1] is type(module) or isinstance(module, nn.Sequential)


def test_a_module_that_cannot_be_written_says_why():
    class Branchy(nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x

    with pytest.raises(model_parts.PartError, match="torch.fx cannot trace it"):
        model_parts.model_source(Branchy())


# ---- kswarm_rt.apply ----

WINNER = '''

class ModelNew(Model):
    calls = 0

    def forward(self, *args):
        type(self).calls += 1
        return Model.forward(self, *args)
'''


def _winners(out, tmp_path, parts=None):
    """A winners folder as optimize writes it, each problem's winner its own Model counting calls."""
    folder = tmp_path / "winners"
    folder.mkdir(exist_ok=True)
    parts = parts or _parts(out)
    entries = []
    for p in parts["parts"]:
        name = f"level{p['level']}_{p['problem']}"
        (folder / f"{name}.py").write_text((out / p["file"]).read_text() + WINNER)
        entries.append({"problem": p["problem"], "problem_sha256": p["problem_sha256"],
                        "module": name, "kept": "test", "speedup": 1.5})
    (folder / "parts.json").write_text(json.dumps(parts))
    (folder / "manifest.json").write_text(json.dumps({"problems": entries}))
    return folder


def _fresh_model(out):
    user = split.load_user_model(str(out.parent / "net.py"), "full")
    torch.manual_seed(1)  # other weights than the split saw: apply copies the model's own
    return user


def test_apply_swaps_in_winners_for_the_calls_they_were_verified_at(split_dir, tmp_path):
    out, _ = split_dir
    user = _fresh_model(out)
    original = user.get_model().eval()
    model = user.get_model().eval()
    model.load_state_dict(original.state_dict())  # the user's weights, whatever they are
    patched = apply(model, str(_winners(out, tmp_path)))
    assert patched is model
    assert sorted(parts_of(patched)) == ["blocks.0", "blocks.1", "gate", "head", "stem"]
    x = user.get_inputs()[0]
    with torch.no_grad():
        torch.testing.assert_close(patched(x), original(x))
    assert all((p.calls_replaced, p.calls_original) == (1, 0)
               for p in parts_of(patched).values())


def test_apply_falls_back_to_the_original_where_nothing_was_verified(split_dir, tmp_path):
    out, _ = split_dir
    user = _fresh_model(out)
    patched = apply(user.get_model().eval(), str(_winners(out, tmp_path)))
    block = parts_of(patched)["blocks.0"]
    with torch.no_grad():
        patched(torch.randn(5, 3, 16, 16))  # another batch size: never verified
    assert (block.calls_replaced, block.calls_original) == (0, 1)
    patched(torch.randn(2, 3, 16, 16))  # autograd on: the winners were checked under no_grad
    assert (block.calls_replaced, block.calls_original) == (0, 2)
    patched.train()
    with torch.no_grad():
        patched(torch.randn(2, 3, 16, 16))  # training mode: batch norm would use batch statistics
    assert (block.calls_replaced, block.calls_original) == (0, 3)
    patched.eval()
    with torch.no_grad():
        patched(torch.randn(2, 3, 16, 16))
    assert (block.calls_replaced, block.calls_original) == (1, 3)
    # A constant argument as it was verified, and only so: by keyword, with the same value.
    gate = parts_of(patched)["gate"]
    start, x = gate.calls_replaced, torch.randn(2, 8)
    with torch.no_grad():
        for kwargs, used in (({"scale": 2.0}, True), ({"scale": 3.0}, False), ({}, False),
                             ({"scale": 2}, False), ({"scale": 2.0, "extra": 1}, False)):
            before = gate.calls_replaced
            try:
                gate(x, **kwargs)
            except TypeError:
                assert not used  # the original refuses what it was never called with
            assert gate.calls_replaced - before == used, kwargs
        gate(x, 2.0)  # by position: another call than the one verified
    assert gate.calls_replaced == start + 1


def test_a_winner_taken_out_by_the_end_to_end_check_is_no_longer_applied(split_dir, tmp_path):
    out, _ = split_dir
    folder = _winners(out, tmp_path)
    stem = next(p for p in _parts(out)["parts"] if p["modules"] == ["stem"])
    split.drop_winner(str(folder), stem["problem"], "with it the patched model was wrong")
    entry = next(e for e in json.loads((folder / "manifest.json").read_text())["problems"]
                 if e["problem"] == stem["problem"])
    assert (entry["module"], entry["kept"], entry["speedup"]) == (None, "eager", 1.0)
    assert entry["dropped"] == "test 1.500x: with it the patched model was wrong"
    assert not (folder / f"level{stem['level']}_{stem['problem']}.py").exists()
    patched = apply(_fresh_model(out).get_model().eval(), str(folder))
    assert "stem" not in parts_of(patched) and "head" in parts_of(patched)
    with pytest.raises(ValueError, match="no winner of"):
        split.drop_winner(str(folder), stem["problem"], "again")


def test_apply_keeps_a_submodule_that_is_not_what_was_optimized(split_dir, tmp_path):
    out, _ = split_dir
    user = _fresh_model(out)
    model = user.get_model().eval()
    model.blocks[1] = nn.Identity()                      # another class at that path
    model.stem = nn.Conv2d(3, 8, 5, padding=2)           # same class, other weight shapes
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        apply(model, str(_winners(out, tmp_path)))
    said = " ".join(str(w.message) for w in seen)
    assert "blocks.1 is a torch.nn.modules.linear.Identity" in said
    assert "stem: its parameters do not match" in said
    assert sorted(parts_of(model)) == ["blocks.0", "gate", "head"]


# ---- parts called with keyword and constant arguments ----

MODEL_KW = textwrap.dedent('''
    import torch
    import torch.nn as nn

    class Attn(nn.Module):  # a tensor by keyword and a flag: a part, exported
        def __init__(self, c):
            super().__init__()
            self.q = nn.Linear(c, c)

        def forward(self, x, mask=None, bias=None, causal=False):
            y = self.q(x)
            if bias is not None:
                y = y + bias
            if mask is not None:
                y = y.masked_fill(mask < 0, 0.0)
            return y * (0.5 if causal else 1.0)

    class Twice(nn.Module):  # called with two values of a flag: not a part, its child is
        def __init__(self, c):
            super().__init__()
            self.lin = nn.Linear(c, c)

        def forward(self, x, flag):
            return self.lin(x) * (2.0 if flag else 1.0)

    class Listy(nn.Module):  # called with a list: not a part, its child is
        def __init__(self, c):
            super().__init__()
            self.lin = nn.Linear(c, c)

        def forward(self, xs):
            return self.lin(xs[0]) + xs[1]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn, self.twice, self.listy = Attn(16), Twice(16), Listy(16)

        def forward(self, x):
            y = self.attn(x, mask=x.mean(-1, keepdim=True), causal=True)
            y = self.twice(y, True) + self.twice(y, False)
            return self.listy([y, x])

    def get_model():
        return Net()

    def get_inputs():
        return [torch.randn(4, 16)]
''')


@pytest.fixture(scope="module")
def split_kw(tmp_path_factory):
    out = tmp_path_factory.mktemp("split_kw")
    (out / "net.py").write_text(MODEL_KW)
    args = argparse.Namespace(model=str(out / "net.py"), out=str(out / "out"), device="cpu",
                              shapes="full", max_share=0.9, min_share=0.0, max_parts=24)
    split.split(args)
    return out / "out"


def test_a_module_called_with_keyword_and_constant_arguments_is_a_part(split_kw):
    parts = _parts(split_kw)
    assert sorted(m for p in parts["parts"] for m in p["modules"]) == \
        ["attn", "listy.lin", "twice.lin"]
    attn = next(p for p in parts["parts"] if p["modules"] == ["attn"])
    assert attn["call"] == {"tensors": [0, "mask"], "constants": [["causal", True]]}
    assert [s["shape"] for s in attn["signature"]] == [[4, 16], [4, 1]]
    notes = " | ".join(parts["not_parts"])
    assert "twice (Twice" in notes and "called with different keyword or constant" in notes
    assert "listy (Listy" in notes and "called with a list argument (#0)" in notes
    # The written problem takes the tensors positionally, under their names in the module's
    # forward, and computes what the call did.
    assert "def forward(self, x, mask):" in (split_kw / attn["file"]).read_text()
    problem = inputs_mod.load_problem(str(split_kw / attn["file"]), "full", str)
    torch.manual_seed(0)
    net = split.load_user_model(str(split_kw.parent / "net.py"), "full").get_model().eval()
    model = problem.Model()
    model.load_state_dict(net.attn.state_dict())
    x, mask = problem.get_inputs()
    with torch.no_grad():
        torch.testing.assert_close(model(x, mask), net.attn(x, mask=mask, causal=True))


def test_apply_uses_a_keyword_called_part_only_for_the_call_it_was_verified_at(split_kw, tmp_path):
    user = split.load_user_model(str(split_kw.parent / "net.py"), "full")
    original = user.get_model().eval()
    model = user.get_model().eval()
    model.load_state_dict(original.state_dict())
    apply(model, str(_winners(split_kw, tmp_path)))
    attn = parts_of(model)["attn"]
    x = torch.randn(4, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x))
        assert (attn.calls_replaced, attn.calls_original) == (1, 0)
        model.attn(x, mask=x[:, :1], causal=False)       # another constant
        model.attn(x, mask=x[:, :1])                     # a constant left out
        model.attn(x, x[:, :1], causal=True)             # the tensor by position
        model.attn(x, mask=x[:, :1], causal=True, bias=x)  # one more argument
    assert (attn.calls_replaced, attn.calls_original) == (1, 4)
