# Crash: reads address 0 through ctypes in forward, so the worker dies with SIGSEGV (expect: crashed)
import ctypes

import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_features),
        )

    def forward(self, x):
        ctypes.string_at(0)  # NULL dereference: segmentation fault
        return self.net(x)
