import torch
import torch.nn as nn

batch_size = 64
seq_len = 128
input_size = 256
hidden_size = 256
num_layers = 2
num_outputs = 10


class Model(nn.Module):
    """Stacked bidirectional batch-first LSTM; the last time step of both directions goes through a linear head."""

    def __init__(self, input_size, hidden_size, num_layers, num_outputs):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, num_outputs)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


def get_inputs():
    return [torch.randn(batch_size, seq_len, input_size)]


def get_init_inputs():
    return [input_size, hidden_size, num_layers, num_outputs]


KSWARM_SMALL_SHAPES = {"batch_size": 4, "seq_len": 8, "input_size": 16, "hidden_size": 16, "num_outputs": 8}
KSWARM_LARGE_SHAPES = {"batch_size": 64, "seq_len": 512, "input_size": 128, "hidden_size": 256, "num_layers": 6}
