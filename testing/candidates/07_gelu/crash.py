# Crash: reads address 0 through ctypes in forward, so the worker dies with SIGSEGV (expect: crashed)
import ctypes

import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        ctypes.string_at(0)  # NULL dereference: segmentation fault
        return F.gelu(x)
