# Does not parse: missing colon after the def and an unclosed bracket (expect: compile_error)
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x)
        return F.gelu(x, approximate="none"
