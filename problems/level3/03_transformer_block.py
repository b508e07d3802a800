import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 8
seq_len = 512
d_model = 768
num_heads = 12
mlp_ratio = 4


class Model(nn.Module):
    """Pre-LayerNorm transformer block: multi-head self-attention and a GELU MLP, each with a residual connection."""

    def __init__(self, d_model, num_heads, mlp_ratio):
        super().__init__()
        self.num_heads = num_heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, mlp_ratio * d_model)
        self.fc2 = nn.Linear(mlp_ratio * d_model, d_model)

    def forward(self, x):
        b, t, c = x.shape
        h = self.num_heads
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = F.scaled_dot_product_attention(q, k, v)
        att = att.transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(att)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x


def get_inputs():
    return [torch.randn(batch_size, seq_len, d_model)]


def get_init_inputs():
    return [d_model, num_heads, mlp_ratio]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "seq_len": 16, "d_model": 32, "num_heads": 4}
KSWARM_LARGE_SHAPES = {"batch_size": 8, "seq_len": 4096}
