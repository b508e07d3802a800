import torch
import torch.nn as nn

batch_size = 16
in_channels = 64
out_channels = 128
height = 128
width = 128
kernel_size = 3


class Model(nn.Module):
    """2D convolution (stride 1, same padding) with bias."""

    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        return self.conv(x)


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 16, "height": 512, "width": 512}
