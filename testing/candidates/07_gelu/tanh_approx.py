# Approximate: tanh-form GELU, max error ~5e-4 (expect: passed with tolerance seed 1e-2, wrong with strict 1e-4)
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.gelu(x, approximate="tanh")
