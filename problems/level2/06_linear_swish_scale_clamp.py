import torch
import torch.nn as nn

batch_size = 4096
in_features = 4096
out_features = 4096
clamp_min = -0.5
clamp_max = 2.0


class Model(nn.Module):
    """Linear layer, swish (x * sigmoid(x)), learnable per-feature scale, then clamp."""

    def __init__(self, in_features, out_features, clamp_min, clamp_max):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = nn.Parameter(1.0 + 0.5 * torch.randn(out_features))
        self.clamp_min = clamp_min
        self.clamp_max = clamp_max

    def forward(self, x):
        y = self.linear(x)
        y = y * torch.sigmoid(y)
        y = y * self.scale
        return torch.clamp(y, self.clamp_min, self.clamp_max)


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features, clamp_min, clamp_max]


KSWARM_SMALL_SHAPES = {"batch_size": 32, "in_features": 64, "out_features": 96}
KSWARM_LARGE_SHAPES = {"batch_size": 16384, "in_features": 8192, "out_features": 8192}
