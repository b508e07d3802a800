import torch
import torch.nn as nn

# A tiny correction to the input: returning the input passes any tolerance (degenerate on purpose).
n = 1 << 24


class Model(nn.Module):
    def forward(self, x):
        return x + 1e-4 * torch.tanh(x)


def get_inputs():
    return [torch.randn(n)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"n": 4096}
