import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 4096
hidden = 4096
divisor = 2.0


class Model(nn.Module):
    """Linear layer, Mish activation, division by a constant, then residual addition of the input."""

    def __init__(self, hidden, divisor):
        super().__init__()
        self.linear = nn.Linear(hidden, hidden)
        self.divisor = divisor

    def forward(self, x):
        return F.mish(self.linear(x)) / self.divisor + x


def get_inputs():
    return [torch.randn(batch_size, hidden)]


def get_init_inputs():
    return [hidden, divisor]


KSWARM_SMALL_SHAPES = {"batch_size": 32, "hidden": 64}
KSWARM_LARGE_SHAPES = {"batch_size": 16384, "hidden": 8192}
