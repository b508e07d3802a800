# Contract violation: right answer, but forward zeroes its input in place (expect: rejected)
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        y = F.gelu(x.clone())
        x.zero_()  # clobbers the caller's tensor
        return y
