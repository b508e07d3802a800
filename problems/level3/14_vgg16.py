import torch
import torch.nn as nn

batch_size = 10
image_size = 224
width = 64
num_classes = 1000

# Output channels of each 3x3 convolution in units of `width` ("M": 2x2 max pool): VGG-16.
STAGES = [1, 1, "M", 2, 2, "M", 4, 4, 4, "M", 8, 8, 8, "M", 8, 8, 8, "M"]


class Model(nn.Module):
    """VGG-16: thirteen 3x3 conv-ReLU layers in five max-pooled stages, then three fully connected layers."""

    def __init__(self, width, num_classes):
        super().__init__()
        layers, channels = [], 3
        for stage in STAGES:
            if stage == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, stage * width, 3, padding=1), nn.ReLU(inplace=True)]
                channels = stage * width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d((7, 7))
        hidden = 64 * width
        self.classifier = nn.Sequential(
            nn.Linear(channels * 49, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def get_inputs():
    return [torch.randn(batch_size, 3, image_size, image_size)]


def get_init_inputs():
    return [width, num_classes]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "image_size": 32, "width": 4, "num_classes": 10}
KSWARM_LARGE_SHAPES = {"batch_size": 64}
