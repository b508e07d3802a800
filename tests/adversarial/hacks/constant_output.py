# target: tests/adversarial/problems/tiny_mean.py | device: any
# Returns a small constant, right to within tolerance for zero-mean inputs.
import torch, torch.nn as nn
class ModelNew(nn.Module):
    def forward(self, x):
        return torch.full((x.shape[0],), 1e-3, device=x.device)
