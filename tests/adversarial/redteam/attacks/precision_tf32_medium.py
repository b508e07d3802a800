# target: problems/level2/01_linear_gelu_scale.py | device: any
# Computes honestly but switches the process to TF32 / "medium" float32 matmul precision in __init__, so its matmuls (and anything timed after) run coarser than fp32.
import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.set_float32_matmul_precision("medium")
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        return F.gelu(self.linear(x)) * self.scale
