"""timm's ConvNeXt-Tiny with random weights (nothing downloaded), batch 32 at 224 x 224.

timm starts every block's layer scale at 1e-6 (for training from scratch): each block is then the
identity to within 1e-6, a stage without a downsampling layer is a degenerate problem (its input
passes the check) and a candidate that skips the blocks would pass. Layer scale 1 makes them count.
"""
import timm
import torch

batch_size = 32
image_size = 224


def get_model():
    return timm.create_model("convnext_tiny", pretrained=False, ls_init_value=1.0)


def get_inputs():
    return [torch.randn(batch_size, 3, image_size, image_size)]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "image_size": 64}
