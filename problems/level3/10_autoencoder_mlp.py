import torch
import torch.nn as nn

batch_size = 4096
in_features = 1024
hidden = 512
latent = 64


class Model(nn.Module):
    """MLP autoencoder: GELU encoder to a low-dimensional latent, GELU decoder back to the input size, sigmoid output."""

    def __init__(self, in_features, hidden, latent):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden // 2),
            nn.GELU(),
            nn.Linear(hidden // 2, latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden // 2),
            nn.GELU(),
            nn.Linear(hidden // 2, hidden),
            nn.GELU(),
            nn.Linear(hidden, in_features),
            nn.Sigmoid(),
        )
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        return self.decoder(self.encoder(x))


def get_inputs():
    return [torch.rand(batch_size, in_features)]


def get_init_inputs():
    return [in_features, hidden, latent]


KSWARM_SMALL_SHAPES = {"batch_size": 16, "in_features": 64, "hidden": 48, "latent": 8}
KSWARM_LARGE_SHAPES = {"batch_size": 65536, "in_features": 4096, "hidden": 2048, "latent": 256}
