import torch
import torch.nn as nn

batch_size = 128
channels = 16
height = 128
width = 128


class Model(nn.Module):
    """Softmax across the channel dimension (dim=1) of an NCHW tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.softmax(x, dim=1)


def get_inputs():
    return [torch.randn(batch_size, channels, height, width)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"batch_size": 2, "height": 16, "width": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 128, "height": 512, "width": 512}
