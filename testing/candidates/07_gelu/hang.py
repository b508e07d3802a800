# Hang: forward spins forever and never returns (expect: timeout)
import time

import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        while True:
            time.sleep(0.05)
        return F.gelu(x)  # never reached
