# Wrong: erf of |x| instead of x, so the negative half of GELU is badly off (expect: wrong)
import math

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        # Bug: erf(|x| / sqrt(2)) makes 0.5 * x * (1 + erf(...)) approach x, not 0, for x << 0.
        return 0.5 * x * (1.0 + torch.erf(x.abs() / math.sqrt(2.0)))
