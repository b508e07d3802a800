# Correct: the plain PyTorch reference (F.gelu, exact erf) as ModelNew, no faster (expect: passed)
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    """Elementwise GELU activation (exact erf form)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.gelu(x)
