import torch
import torch.nn as nn

batch = 64
m = 512
k = 256
n = 512


class Model(nn.Module):
    """Batched matrix multiplication C[b] = A[b] @ B[b]."""

    def __init__(self):
        super().__init__()

    def forward(self, a, b):
        return torch.bmm(a, b)


def get_inputs():
    return [torch.randn(batch, m, k), torch.randn(batch, k, n)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"batch": 4, "m": 32, "k": 24, "n": 40}
KSWARM_LARGE_SHAPES = {"batch": 128, "m": 512, "k": 1024, "n": 2048}
