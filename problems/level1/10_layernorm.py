import torch
import torch.nn as nn

rows = 8192
hidden = 4096


class Model(nn.Module):
    """LayerNorm over the last dimension with learnable affine parameters."""

    def __init__(self, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        with torch.no_grad():
            self.norm.weight.copy_(1.0 + 0.1 * torch.randn(hidden))
            self.norm.bias.copy_(0.1 * torch.randn(hidden))

    def forward(self, x):
        return self.norm(x)


def get_inputs():
    return [torch.randn(rows, hidden) * 2.0 + 1.0]


def get_init_inputs():
    return [hidden]


KSWARM_SMALL_SHAPES = {"rows": 64, "hidden": 128}
KSWARM_LARGE_SHAPES = {"rows": 65536, "hidden": 8192}
