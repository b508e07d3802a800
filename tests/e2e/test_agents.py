"""kswarm agents: the built-in agents listed, and the candidate one of them writes for a problem,
the same file `kswarm run` evaluates."""
import json
import os
import sqlite3
import subprocess

from conftest import KSWARM, PROBLEMS, Kswarm

GELU = os.path.join(PROBLEMS, "level1", "07_gelu.py")
RESNET = os.path.join(PROBLEMS, "level3", "02_resnet_basic_block.py")


def agents(*args, timeout=60):
    return subprocess.run([KSWARM, "agents", *args], capture_output=True, text=True,
                          timeout=timeout)


def written_and_evaluated(tmp_path, agent, problem_source):
    """The candidate `agent` writes for the problem (its text) and its `kswarm eval` on 3 trials."""
    problem = tmp_path / "problem.py"
    problem.write_text(problem_source)
    out = tmp_path / f"{agent}.py"
    proc = agents(agent, str(problem), "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = Kswarm(tmp_path / "k.db").eval_json(str(problem), str(out), "--trials", "3")
    return out.read_text(), result


def test_the_list_names_every_agent_its_defaults_and_needs():
    proc = agents()
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:-1]}
    assert {"torch_compile", "cuda_graph", "fold_batchnorm", "tf32"} <= set(rows)
    assert rows["torch_compile"].split()[1:3] == ["cuda,", "cpu"]
    assert "a CUDA device" in rows["cuda_graph"]
    assert "a convolution, a batch norm" in rows["fold_batchnorm"]
    assert "[--precision reduced]" in rows["tf32"]


def test_the_written_candidate_is_the_one_run_evaluates(tmp_path):
    out = tmp_path / "gelu_torch_compile.py"
    proc = agents("torch_compile", GELU, "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "class ModelNew(Model)" in out.read_text()
    assert agents("torch_compile", GELU, "--device", "cpu").stdout == out.read_text()

    db = tmp_path / "kswarm.db"
    run = subprocess.run([KSWARM, "run", GELU, "--agents", "torch_compile", "--device", "cpu",
                          "--shapes", "small", "--trials", "2", "--db", str(db)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    stored = sqlite3.connect(db).execute(
        "select source from candidates where generator = 'torch_compile'").fetchall()
    assert stored == [(out.read_text(),)]


def test_an_agent_that_proposes_nothing_says_what_it_needs():
    proc = agents("fold_batchnorm", GELU)
    assert proc.returncode == 2
    assert "needs a convolution, a batch norm" in proc.stderr, proc.stderr
    proc = agents("cuda_graph", RESNET, "--device", "cpu")
    assert proc.returncode == 2
    assert "needs a CUDA device" in proc.stderr, proc.stderr
    proc = agents("fold_batchnorm", RESNET, "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "_ks_fold_batchnorm" in proc.stdout


def test_bad_input_exits_2_with_a_clear_message(tmp_path):
    proc = agents("no_such_agent", GELU)
    assert proc.returncode == 2
    assert "unknown agent 'no_such_agent'" in proc.stderr and "torch_compile" in proc.stderr
    proc = agents("torch_compile")
    assert proc.returncode == 2
    assert "kswarm agents NAME PROBLEM" in proc.stderr
    proc = agents("torch_compile", str(tmp_path / "missing.py"))
    assert proc.returncode == 2
    assert "missing.py" in proc.stderr


# Loads the candidate file the agent wrote and uses ModelNew the way a user's code uses Model.
DROP_IN = r"""
import importlib.util, sys, torch
spec = importlib.util.spec_from_file_location("candidate", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
init = m.get_init_inputs()
torch.manual_seed(0); new = m.ModelNew(*init).eval()
torch.manual_seed(0); ref = m.Model(*init).eval()
torch.manual_seed(1); other = m.Model(*init).eval()
with torch.no_grad():
    for b in other.buffers():
        if b.is_floating_point(): b.uniform_(0.5, 1.5)
x = m.get_inputs()[0][:2]
with torch.no_grad():
    first = (new(x) - ref(x)).abs().max().item()
    new.load_state_dict(other.state_dict()); ref.load_state_dict(other.state_dict())
    loaded = (new(x) - ref(x)).abs().max().item()
    new.conv1.weight.mul_(2); ref.conv1.weight.mul_(2)
    scaled = (new(x) - ref(x)).abs().max().item()
    out = new(x)
    out.view(-1)  # the reference's layout: views work
new(x).sum().backward()
grads = all(p.grad is not None for p in new.parameters())
print(first, loaded, scaled, grads)
"""


def test_fold_batchnorm_stays_a_drop_in_after_the_weights_change(tmp_path):
    out = tmp_path / "fold.py"
    proc = agents("fold_batchnorm", RESNET, "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    py = os.path.join(os.path.dirname(PROBLEMS), ".venv", "bin", "python")
    check = subprocess.run([py, "-c", DROP_IN, str(out)], capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stderr
    first, loaded, scaled, grads = check.stdout.split()
    assert float(first) < 1e-4 and float(loaded) < 1e-4 and float(scaled) < 1e-4, check.stdout
    assert grads == "True"  # training through it reaches the module's own parameters


def test_channels_last_outputs_keep_the_reference_layout(tmp_path):
    out = tmp_path / "cl.py"
    proc = agents("channels_last", RESNET, "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    py = os.path.join(os.path.dirname(PROBLEMS), ".venv", "bin", "python")
    check = subprocess.run([py, "-c", DROP_IN, str(out)], capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stderr


CONV3D = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 8, 3)
        self.norm = nn.BatchNorm3d(8)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        return self.head(self.norm(self.conv(x)).mean(dim=(2, 3, 4)))


def get_inputs():
    return [torch.randn(2, 3, 8, 8, 8)]


def get_init_inputs():
    return []
'''


def test_channels_last_applies_to_3d_convolutions_and_keeps_other_ranks(tmp_path):
    # Module.to(memory_format=channels_last) refuses the 5-D weights of a Conv3d, and the 2-D
    # Linear beside it must stay as it is: the candidate builds and passes (the CUDA recipe,
    # channels_last_cudnn_benchmark, shares the same layout helpers).
    source, result = written_and_evaluated(tmp_path, "channels_last", CONV3D)
    assert "_ks_layout" in source
    assert result["outcome"] == "passed", result


VIT_LAYER = '''import torch
import torch.nn as nn
from torchvision.models.vision_transformer import EncoderBlock


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = EncoderBlock(4, 64, 128, 0.0, 0.0)
        self.eval()  # as optimize writes a part: eager attention takes its fused path

    def forward(self, x):
        return self.block(x)


def get_inputs():
    return [torch.randn(2, 9, 64)]


def get_init_inputs():
    return []
'''


def test_compiled_outputs_keep_the_layout_eager_gives(tmp_path):
    # Compiled, ViT's encoder layer returns its output transposed in memory ((64, 128, 1) where
    # eager's fused attention gives (576, 64, 1)), which the layout check rightly fails.
    _, result = written_and_evaluated(tmp_path, "torch_compile", VIT_LAYER)
    assert result["outcome"] == "passed", result


CONV2D = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def get_inputs():
    return [torch.randn(2, 3, 16, 16)]


def get_init_inputs():
    return []
'''


def stale_variant(tmp_path, source):
    """The candidate that keeps what it derived from the first weights it saw, and its eval."""
    stale = tmp_path / "stale.py"
    stale.write_text(source.replace(
        "self.watch and _ks_weights_key(self.sources) != self.key", "False"))
    assert stale.read_text() != source
    return Kswarm(tmp_path / "k.db").eval_json(str(tmp_path / "problem.py"), str(stale),
                                               "--trials", "3")


def test_frozen_weights_are_compiled_again_when_they_change(tmp_path):
    # Freezing folds the weights into the compiled code as constants that no guard watches; the
    # drop-in check changes them halfway through the trials, and a candidate that kept its first
    # compile is wrong from there on.
    source, result = written_and_evaluated(tmp_path, "torch_compile_freezing", CONV2D)
    assert result["outcome"] == "passed", result
    assert stale_variant(tmp_path, source)["outcome"] == "wrong"


# Its batch norm is functional, in inference form, as the harness leaves a Model in training
# mode: folding applies there (a BatchNorm2d module in training mode is left as it is).
CONV2D_BN = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.register_buffer("mean", torch.randn(8) * 0.1)
        self.register_buffer("var", torch.rand(8) + 0.5)
        self.weight = nn.Parameter(torch.rand(8) + 0.5)
        self.bias = nn.Parameter(torch.randn(8) * 0.1)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        y = F.batch_norm(self.conv(x), self.mean, self.var, self.weight, self.bias,
                         training=False, momentum=0.0, eps=1e-5)
        return self.head(torch.relu(y).mean(dim=(2, 3)))


def get_inputs():
    return [torch.randn(2, 3, 16, 16)]


def get_init_inputs():
    return []
'''


def test_batch_norms_fold_under_the_harness_and_fold_again_when_the_weights_change(tmp_path):
    source, result = written_and_evaluated(tmp_path, "fold_batchnorm", CONV2D_BN)
    assert result["outcome"] == "passed", result
    # Wrong once the drop-in check changes the weights: so the fold did happen.
    assert stale_variant(tmp_path, source)["outcome"] == "wrong"


def test_a_combination_of_every_cpu_ingredient_passes_the_checks(tmp_path):
    source, result = written_and_evaluated(
        tmp_path, "single_thread+channels_last+fold_batchnorm+torch_compile_freezing", CONV2D_BN)
    assert ("# kswarm recipe: single_thread+channels_last+fold_batchnorm+torch_compile_freezing"
            in source)
    assert result["outcome"] == "passed", result


def test_the_recipe_search_reads_its_attempts_back_and_stops_at_its_budget(tmp_path):
    problem = tmp_path / "01_conv_bn.py"
    problem.write_text(CONV2D_BN)
    db = tmp_path / "k.db"
    proc = subprocess.run([KSWARM, "run", str(problem), "--agents", "recipe_search",
                           "--recipe-budget", "0.5", "--device", "cpu", "--trials", "3",
                           "--db", str(db)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "agent_error" not in proc.stderr, proc.stderr[-3000:]
    c = sqlite3.connect(db)
    # Its first step took more than the budget: the second proposal read that back and stopped.
    sources = [s for (s,) in c.execute("SELECT k.source FROM candidates k JOIN evaluations e "
                                       "ON e.candidate_id = k.id WHERE k.generator = "
                                       "'recipe_search' AND e.purpose = 'candidate'")]
    assert len(sources) == 1 and "# kswarm recipe: single_thread\n" in sources[0]
    (plan,) = c.execute("SELECT config_json FROM runs").fetchone()
    assert json.loads(plan)["recipe_budget_s"] == 0.5


THREADS = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        self.threads_seen = torch.get_num_threads()
        if x.sum() < -1e6:
            raise ValueError("refused")
        return self.fc(x)


def get_inputs():
    return [torch.randn(4, 8)]


def get_init_inputs():
    return []
'''

HOST_THREADS = r"""
import importlib.util, sys, torch
spec = importlib.util.spec_from_file_location("candidate", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
torch.set_num_threads(2)
new = m.ModelNew().eval()
with torch.no_grad():
    new(torch.randn(4, 8))
    inside, after = new.threads_seen, torch.get_num_threads()
    try:
        new(torch.full((4, 8), -1e6))
    except ValueError:
        pass
print(inside, after, torch.get_num_threads())
"""


def test_one_thread_holds_for_the_call_only_and_the_host_keeps_its_count(tmp_path):
    # A drop-in module must not change its host program's threads, even when its call raises.
    source, result = written_and_evaluated(tmp_path, "single_thread", THREADS)
    assert "# kswarm recipe: single_thread" in source
    assert result["outcome"] == "passed", result
    py = os.path.join(os.path.dirname(PROBLEMS), ".venv", "bin", "python")
    check = subprocess.run([py, "-c", HOST_THREADS, str(tmp_path / "single_thread.py")],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["1", "2", "2"], check.stdout
