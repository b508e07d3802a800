import torch
import torch.nn as nn

batch_size = 2048
in_features = 2048
hidden = 4096
out_features = 1024


class Model(nn.Module):
    """Three-layer MLP with ReLU activations."""

    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_features),
        )
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        return self.net(x)


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, hidden, out_features]


KSWARM_SMALL_SHAPES = {"batch_size": 16, "in_features": 64, "hidden": 96, "out_features": 32}
KSWARM_LARGE_SHAPES = {"batch_size": 16384, "in_features": 4096, "hidden": 8192, "out_features": 4096}
