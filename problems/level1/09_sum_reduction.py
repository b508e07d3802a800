import torch
import torch.nn as nn

batch_size = 64
reduce_len = 1024
features = 1024


class Model(nn.Module):
    """Sum reduction over the middle dimension of a 3D tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.sum(x, dim=1)


def get_inputs():
    return [torch.randn(batch_size, reduce_len, features)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"batch_size": 4, "reduce_len": 32, "features": 64}
KSWARM_LARGE_SHAPES = {"batch_size": 64, "reduce_len": 4096, "features": 4096}
