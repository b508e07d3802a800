import torch
import torch.nn as nn

batch_size = 4096
in_features = 4096
out_features = 4096


class Model(nn.Module):
    """Linear layer, row-wise softmax, then dropout with p=0 (identity), scaled back up by the width."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.dropout = nn.Dropout(p=0.0)
        self.out_features = out_features

    def forward(self, x):
        y = torch.softmax(self.linear(x), dim=1)
        return self.dropout(y) * self.out_features


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]


KSWARM_SMALL_SHAPES = {"batch_size": 32, "in_features": 64, "out_features": 48}
KSWARM_LARGE_SHAPES = {"batch_size": 16384, "in_features": 8192, "out_features": 8192}
