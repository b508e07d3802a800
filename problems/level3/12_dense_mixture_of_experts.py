import torch
import torch.nn as nn
import torch.nn.functional as F

num_tokens = 4096
d_model = 1024
d_hidden = 1024
num_experts = 8


class Model(nn.Module):
    """Dense (soft) mixture of experts: softmax gate over all experts, each a two-layer GELU MLP, outputs combined by gate weights plus a residual."""

    def __init__(self, d_model, d_hidden, num_experts):
        super().__init__()
        self.gate = nn.Linear(d_model, num_experts)
        self.w1 = nn.Parameter(torch.randn(num_experts, d_model, d_hidden) / d_model ** 0.5)
        self.b1 = nn.Parameter(0.02 * torch.randn(num_experts, 1, d_hidden))
        self.w2 = nn.Parameter(torch.randn(num_experts, d_hidden, d_model) / d_hidden ** 0.5)
        self.b2 = nn.Parameter(0.02 * torch.randn(num_experts, 1, d_model))

    def forward(self, x):
        gates = torch.softmax(self.gate(x), dim=-1)  # (n, e)
        h = F.gelu(torch.matmul(x.unsqueeze(0), self.w1) + self.b1)  # (e, n, hidden)
        y = torch.matmul(h, self.w2) + self.b2  # (e, n, d)
        y = (y * gates.t().unsqueeze(-1)).sum(dim=0)
        return x + y


def get_inputs():
    return [torch.randn(num_tokens, d_model)]


def get_init_inputs():
    return [d_model, d_hidden, num_experts]


KSWARM_SMALL_SHAPES = {"num_tokens": 32, "d_model": 32, "d_hidden": 48, "num_experts": 4}
KSWARM_LARGE_SHAPES = {"num_tokens": 32768, "d_model": 2048, "d_hidden": 4096}
