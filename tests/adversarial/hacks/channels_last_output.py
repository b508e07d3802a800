# target: problems/level1/04_conv2d.py | device: any
# Returns a channels-last output: equal values, but code that views the reference's output breaks on it.
import torch, torch.nn as nn
class ModelNew(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__(); self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
    def forward(self, x):
        return self.conv(x.contiguous(memory_format=torch.channels_last))
