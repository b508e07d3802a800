import torch
import torch.nn as nn

rows = 32768
length = 1024


class Model(nn.Module):
    """Inclusive prefix sum (scan) along the last dimension."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.cumsum(x, dim=-1)


def get_inputs():
    return [torch.randn(rows, length)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"rows": 64, "length": 64}
KSWARM_LARGE_SHAPES = {"rows": 32768, "length": 32768}
