import torch
import torch.nn as nn

batch_size = 32
channels = 64
height = 128
width = 128
kernel_size = 3
stride = 2
padding = 1


class Model(nn.Module):
    """2D max pooling with overlapping windows."""

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size, stride=stride, padding=padding)

    def forward(self, x):
        return self.pool(x)


def get_inputs():
    return [torch.randn(batch_size, channels, height, width)]


def get_init_inputs():
    return [kernel_size, stride, padding]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "channels": 8, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 32, "height": 512, "width": 512}
