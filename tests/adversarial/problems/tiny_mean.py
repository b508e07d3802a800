import torch
import torch.nn as nn

# Row means of standard-normal data: every output is within 1e-2 of zero, so zeros or a constant
# pass the seed tolerance on the problem's own inputs (a degenerate problem, kept here on purpose).
rows = 256
cols = 262144


class Model(nn.Module):
    def forward(self, x):
        return x.mean(dim=1)


def get_inputs():
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"rows": 16, "cols": 65536}
