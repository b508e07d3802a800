# Wrong: forgets the final multiplication by scale (output is 2x too large for scale 0.5) (expect: wrong)
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        return F.gelu(self.linear(x))  # bug: `* self.scale` is missing
