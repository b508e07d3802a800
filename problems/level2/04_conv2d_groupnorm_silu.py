import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 16
in_channels = 64
out_channels = 128
height = 128
width = 128
kernel_size = 3
num_groups = 8


class Model(nn.Module):
    """Conv2d followed by GroupNorm and SiLU activation."""

    def __init__(self, in_channels, out_channels, kernel_size, num_groups):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.GroupNorm(num_groups, out_channels)

    def forward(self, x):
        return F.silu(self.norm(self.conv(x)))


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, num_groups]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16, "num_groups": 4}
KSWARM_LARGE_SHAPES = {"batch_size": 32, "height": 256, "width": 256}
