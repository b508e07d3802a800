import torch
import torch.nn as nn

batch_size = 64
seq_len = 128
input_size = 256
hidden_size = 512
num_layers = 2


class Model(nn.Module):
    """Multi-layer batch-first GRU returning the full output sequence of the last layer."""

    def __init__(self, input_size, hidden_size, num_layers):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers=num_layers, batch_first=True, dropout=0.0)

    def forward(self, x):
        out, _ = self.gru(x)
        return out


def get_inputs():
    return [torch.randn(batch_size, seq_len, input_size)]


def get_init_inputs():
    return [input_size, hidden_size, num_layers]


KSWARM_SMALL_SHAPES = {"batch_size": 4, "seq_len": 8, "input_size": 16, "hidden_size": 32}
KSWARM_LARGE_SHAPES = {"batch_size": 256, "seq_len": 512, "input_size": 512, "hidden_size": 1024}
