import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 4096
in_features = 4096
out_features = 4096


class Model(nn.Module):
    """Linear layer z, then GELU(z) minus the row-wise logsumexp of z (broadcast over features)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        z = self.linear(x)
        return F.gelu(z) - torch.logsumexp(z, dim=1, keepdim=True)


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]


KSWARM_SMALL_SHAPES = {"batch_size": 32, "in_features": 64, "out_features": 96}
KSWARM_LARGE_SHAPES = {"batch_size": 16384, "in_features": 8192, "out_features": 8192}
