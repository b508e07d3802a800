import torch
import torch.nn as nn

batch_size = 16
seq_len = 256
d_model = 512
nhead = 8
dim_feedforward = 2048


class Model(nn.Module):
    """Post-norm transformer encoder layer (self-attention + ReLU feed-forward, dropout disabled), batch-first."""

    def __init__(self, d_model, nhead, dim_feedforward):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=dim_feedforward, dropout=0.0, batch_first=True
        )

    def forward(self, x):
        return self.layer(x)


def get_inputs():
    return [torch.randn(batch_size, seq_len, d_model)]


def get_init_inputs():
    return [d_model, nhead, dim_feedforward]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "seq_len": 16, "d_model": 32, "nhead": 4, "dim_feedforward": 64}
KSWARM_LARGE_SHAPES = {"batch_size": 32, "seq_len": 1024}
