# target: tests/adversarial/problems/near_identity.py | device: any
# Returns the input tensor itself: no work, no new memory.
import torch.nn as nn
class ModelNew(nn.Module):
    def forward(self, x):
        return x
