import torch
import torch.nn as nn

batch_size = 8192
hidden = 2048


class Model(nn.Module):
    """Linear projection, LayerNorm, then residual addition of the input."""

    def __init__(self, hidden):
        super().__init__()
        self.linear = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x):
        return self.norm(self.linear(x)) + x


def get_inputs():
    return [torch.randn(batch_size, hidden)]


def get_init_inputs():
    return [hidden]


KSWARM_SMALL_SHAPES = {"batch_size": 32, "hidden": 64}
KSWARM_LARGE_SHAPES = {"batch_size": 32768, "hidden": 4096}
