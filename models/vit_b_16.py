"""torchvision's ViT-B/16 with random weights, batch 16 at 224 x 224. torchvision starts the
classifier head at zero (for fine-tuning), which makes every output 0 and the model degenerate for
any check: the head gets small random weights instead."""
import torch
import torchvision

batch_size = 16
image_size = 224


def get_model():
    model = torchvision.models.vit_b_16(weights=None, image_size=image_size)
    torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    return model


def get_inputs():
    return [torch.randn(batch_size, 3, image_size, image_size)]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "image_size": 32}
