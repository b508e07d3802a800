# Runtime error: forward raises RuntimeError with a clear message (expect: runtime_error)
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        raise RuntimeError(f"kswarm test candidate: GELU kernel not implemented for shape {tuple(x.shape)}")
