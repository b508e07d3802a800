import torch
import torch.nn as nn

n = 4096


class Model(nn.Module):
    """Square matrix multiplication C = A @ B."""

    def __init__(self):
        super().__init__()

    def forward(self, a, b):
        return torch.matmul(a, b)


def get_inputs():
    return [torch.randn(n, n), torch.randn(n, n)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"n": 64}
KSWARM_LARGE_SHAPES = {"n": 8192}
