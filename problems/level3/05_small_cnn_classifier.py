import torch
import torch.nn as nn

batch_size = 64
in_channels = 3
image_size = 128
num_classes = 100


class Model(nn.Module):
    """Small CNN classifier: three conv-ReLU-maxpool stages, flatten, and a two-layer classifier head."""

    def __init__(self, in_channels, image_size, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        feat = 128 * (image_size // 8) * (image_size // 8)
        self.classifier = nn.Sequential(
            nn.Linear(feat, 256),
            nn.ReLU(),
            nn.Linear(256, num_classes),
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(x, 1))


def get_inputs():
    return [torch.randn(batch_size, in_channels, image_size, image_size)]


def get_init_inputs():
    return [in_channels, image_size, num_classes]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "image_size": 16, "num_classes": 10}
KSWARM_LARGE_SHAPES = {"batch_size": 256, "image_size": 224}
