import torch
import torch.nn as nn

batch_size = 32
in_channels = 64
out_channels = 32
height = 64
width = 64
kernel_size = 4
stride = 2
padding = 1


class Model(nn.Module):
    """2D transposed convolution that upsamples spatially by the stride."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)

    def forward(self, x):
        return self.deconv(x)


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, stride, padding]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 8, "out_channels": 4, "height": 8, "width": 8}
KSWARM_LARGE_SHAPES = {"batch_size": 32, "height": 256, "width": 256}
