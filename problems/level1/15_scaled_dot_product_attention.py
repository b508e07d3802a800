import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 8
num_heads = 16
seq_len = 1024
head_dim = 64


class Model(nn.Module):
    """Non-causal scaled dot-product attention softmax(Q K^T / sqrt(d)) V over (batch, heads, seq, dim) inputs."""

    def __init__(self):
        super().__init__()

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def get_inputs():
    shape = (batch_size, num_heads, seq_len, head_dim)
    return [torch.randn(shape), torch.randn(shape), torch.randn(shape)]


def get_init_inputs():
    return []


KSWARM_SMALL_SHAPES = {"batch_size": 2, "num_heads": 2, "seq_len": 16, "head_dim": 16}
KSWARM_LARGE_SHAPES = {"batch_size": 8, "seq_len": 4096}
