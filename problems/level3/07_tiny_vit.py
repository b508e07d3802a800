import torch
import torch.nn as nn
import torch.nn.functional as F

batch_size = 32
in_channels = 3
image_size = 224
patch_size = 16
embed_dim = 384
num_heads = 6
num_classes = 1000


class Block(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        h = self.num_heads
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, c))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Model(nn.Module):
    """Tiny vision transformer: conv patch embedding, class token, learned positions, one transformer block, linear head on the class token."""

    def __init__(self, in_channels, image_size, patch_size, embed_dim, num_heads, num_classes):
        super().__init__()
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, num_patches + 1, embed_dim))
        self.block = Block(embed_dim, num_heads)
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.block(x)
        return self.head(self.norm(x[:, 0]))


def get_inputs():
    return [torch.randn(batch_size, in_channels, image_size, image_size)]


def get_init_inputs():
    return [in_channels, image_size, patch_size, embed_dim, num_heads, num_classes]


KSWARM_SMALL_SHAPES = {"batch_size": 2, "image_size": 32, "patch_size": 8, "embed_dim": 32, "num_heads": 4, "num_classes": 10}
KSWARM_LARGE_SHAPES = {"batch_size": 128}
