import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 64
in_channels = 3
image_size = 128
width = 64
num_classes = 100


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin)
        self.pw = nn.Conv2d(cin, cout, 1)
        self.act = nn.ReLU6()

    def forward(self, x):
        return self.act(self.pw(self.act(self.dw(x))))


class Model(nn.Module):
    """Depthwise-separable conv network: stem conv, four depthwise+pointwise stages, adaptive average pool to 4x4, linear classifier."""

    def __init__(self, in_channels, width, num_classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, stride=2, padding=1), nn.ReLU6())
        self.blocks = nn.Sequential(
            DepthwiseSeparable(width, width, 1),
            DepthwiseSeparable(width, 2 * width, 2),
            DepthwiseSeparable(2 * width, 2 * width, 1),
            DepthwiseSeparable(2 * width, 4 * width, 2),
        )
        self.fc = nn.Linear(4 * width * 16, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = F.adaptive_avg_pool2d(x, (4, 4))
        return self.fc(torch.flatten(x, 1))


def get_inputs():
    return [torch.randn(batch_size, in_channels, image_size, image_size)]


def get_init_inputs():
    return [in_channels, width, num_classes]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "image_size": 32, "width": 8, "num_classes": 10}
KSWARM_LARGE_SHAPES = {"batch_size": 256, "image_size": 224}
