import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 8192
num_classes = 4096


class Model(nn.Module):
    """Mean cross-entropy loss between logits and integer class targets."""

    def __init__(self):
        super().__init__()

    def forward(self, logits, targets):
        return F.cross_entropy(logits, targets)


def get_inputs():
    return [torch.randn(batch_size, num_classes) * 2.0, torch.randint(0, num_classes, (batch_size,))]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"batch_size": 64, "num_classes": 32}
KSWARM_LARGE_SHAPES = {"batch_size": 32768, "num_classes": 4096}
