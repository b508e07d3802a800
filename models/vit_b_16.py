"""torchvision's ViT-B/16 with random weights, batch 16 at 224 x 224."""
import torch
import torchvision

batch_size = 16
image_size = 224


def get_model():
    return torchvision.models.vit_b_16(weights=None, image_size=image_size)


def get_inputs():
    return [torch.randn(batch_size, 3, image_size, image_size)]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "image_size": 32}
