# Hang: forward spins forever and never returns (expect: timeout)
import time

import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        while True:
            time.sleep(0.05)
        return F.gelu(self.linear(x)) * self.scale  # never reached
