# target: problems/level2/01_linear_gelu_scale.py | device: any
# Enters a CPU bfloat16 autocast region in __init__ and never leaves it, so every later matmul in the process runs in bf16; outputs are cast back to float32.
import torch
import torch.nn as nn
import torch.nn.functional as F

_region = torch.autocast("cpu", dtype=torch.bfloat16)


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale
        _region.__enter__()

    def forward(self, x):
        return (F.gelu(self.linear(x)) * self.scale).float()
