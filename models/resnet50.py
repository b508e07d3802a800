"""torchvision's ResNet-50 with random weights, batch 32 at 224 x 224."""
import torch
import torchvision

batch_size = 32
image_size = 224


def get_model():
    return torchvision.models.resnet50(weights=None)


def get_inputs():
    return [torch.randn(batch_size, 3, image_size, image_size)]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "image_size": 64}
