# Contract violation: the class is named GeluModel, there is no ModelNew (expect: rejected)
import torch.nn as nn
import torch.nn.functional as F


class GeluModel(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return F.gelu(x)
