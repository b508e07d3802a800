# Correct: F.gelu through torch.compile; its first call compiles (expect: passed)
import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self._run = torch.compile(lambda x: F.gelu(x))

    def forward(self, x):
        return self._run(x)
