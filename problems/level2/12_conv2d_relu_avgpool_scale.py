import torch
import torch.nn as nn

batch_size = 16
in_channels = 64
out_channels = 128
height = 128
width = 128
kernel_size = 3
pool_size = 4


class Model(nn.Module):
    """Conv2d, ReLU, non-overlapping average pooling, then a learnable per-channel scale."""

    def __init__(self, in_channels, out_channels, kernel_size, pool_size):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.pool = nn.AvgPool2d(pool_size)
        self.scale = nn.Parameter(1.0 + 0.5 * torch.randn(out_channels, 1, 1))

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x))) * self.scale


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, pool_size]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 32, "height": 256, "width": 256}
