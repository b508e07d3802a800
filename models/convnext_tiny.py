"""timm's ConvNeXt-Tiny with random weights (nothing downloaded), batch 32 at 224 x 224."""
import timm
import torch

batch_size = 32
image_size = 224


def get_model():
    return timm.create_model("convnext_tiny", pretrained=False)


def get_inputs():
    return [torch.randn(batch_size, 3, image_size, image_size)]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "image_size": 64}
