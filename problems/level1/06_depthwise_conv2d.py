import torch
import torch.nn as nn

batch_size = 16
channels = 128
height = 128
width = 128
kernel_size = 5


class Model(nn.Module):
    """Depthwise 2D convolution (one filter per channel, same padding) with bias."""

    def __init__(self, channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)

    def forward(self, x):
        return self.conv(x)


def get_inputs():
    return [torch.randn(batch_size, channels, height, width)]


def get_init_inputs():
    return [channels, kernel_size]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "channels": 8, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 16, "height": 512, "width": 512}
