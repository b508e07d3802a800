import torch
import torch.nn as nn

batch_size = 16
in_channels = 32
out_channels = 64
height = 256
width = 256
kernel_size = 3
pool_size = 2


class Model(nn.Module):
    """Conv2d, 2x2 max pooling, tanh, then addition of a learnable per-channel bias."""

    def __init__(self, in_channels, out_channels, kernel_size, pool_size):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.pool = nn.MaxPool2d(pool_size)
        self.extra_bias = nn.Parameter(0.1 * torch.randn(out_channels, 1, 1))

    def forward(self, x):
        return torch.tanh(self.pool(self.conv(x))) + self.extra_bias


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, pool_size]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 64, "height": 256, "width": 256}
