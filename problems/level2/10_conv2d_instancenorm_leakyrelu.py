import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 16
in_channels = 32
out_channels = 64
height = 128
width = 128
kernel_size = 3
negative_slope = 0.1


class Model(nn.Module):
    """Conv2d, instance normalization (no affine, no running stats), then LeakyReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, negative_slope):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.InstanceNorm2d(out_channels, affine=False, track_running_stats=False)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(self.norm(self.conv(x)), self.negative_slope)


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, negative_slope]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 64, "height": 256, "width": 256}
