import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 8
in_channels = 3
out_channels = 2
image_size = 128
base = 32


def conv_block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.GroupNorm(4, cout),
        nn.SiLU(),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.GroupNorm(4, cout),
        nn.SiLU(),
    )


class Model(nn.Module):
    """Two-level U-Net: conv encoder with max-pool downsampling, bottleneck, transposed-conv upsampling with skip concatenation, 1x1 output conv."""

    def __init__(self, in_channels, out_channels, base):
        super().__init__()
        self.enc1 = conv_block(in_channels, base)
        self.enc2 = conv_block(base, 2 * base)
        self.mid = conv_block(2 * base, 4 * base)
        self.up2 = nn.ConvTranspose2d(4 * base, 2 * base, 2, stride=2)
        self.dec2 = conv_block(4 * base, 2 * base)
        self.up1 = nn.ConvTranspose2d(2 * base, base, 2, stride=2)
        self.dec1 = conv_block(2 * base, base)
        self.out = nn.Conv2d(base, out_channels, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.out(d1)


def get_inputs():
    return [torch.randn(batch_size, in_channels, image_size, image_size)]


def get_init_inputs():
    return [in_channels, out_channels, base]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "image_size": 16, "base": 8}
KSWARM_LARGE_SHAPES = {"batch_size": 32, "image_size": 512}
