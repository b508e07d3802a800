import torch
import torch.nn as nn

batch_size = 8
in_channels = 32
out_channels = 32
depth = 32
height = 32
width = 32
kernel_size = 3
stride = 2
padding = 1
output_padding = 1


class Model(nn.Module):
    """3D transposed convolution that doubles depth, height and width."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding):
        super().__init__()
        self.deconv = nn.ConvTranspose3d(in_channels, out_channels, kernel_size, stride=stride,
                                         padding=padding, output_padding=output_padding)

    def forward(self, x):
        return self.deconv(x)


def get_inputs():
    return [torch.randn(batch_size, in_channels, depth, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, stride, padding, output_padding]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "in_channels": 4, "out_channels": 4, "depth": 4, "height": 6, "width": 6}
KSWARM_LARGE_SHAPES = {"batch_size": 16, "in_channels": 64, "out_channels": 32, "depth": 64, "height": 64, "width": 64}
