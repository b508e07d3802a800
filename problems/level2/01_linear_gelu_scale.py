import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 4096
in_features = 4096
out_features = 4096
scale = 0.5


class Model(nn.Module):
    """Linear layer followed by GELU and multiplication by a constant scale."""

    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        return F.gelu(self.linear(x)) * self.scale


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features, scale]


KSWARM_SMALL_SHAPES = {"batch_size": 32, "in_features": 64, "out_features": 96}
KSWARM_LARGE_SHAPES = {"batch_size": 16384, "in_features": 8192, "out_features": 8192}
