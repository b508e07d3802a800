import torch
import torch.nn as nn

m = 4096
k = 2048
n = 4096


class Model(nn.Module):
    """Matrix multiplication with a transposed right operand: C = A @ B^T, A is (m, k), B is (n, k)."""

    def __init__(self):
        super().__init__()

    def forward(self, a, b):
        return torch.matmul(a, b.t())


def get_inputs():
    return [torch.randn(m, k), torch.randn(n, k)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"m": 64, "k": 48, "n": 80}
KSWARM_LARGE_SHAPES = {"m": 8192, "k": 8192, "n": 8192}
