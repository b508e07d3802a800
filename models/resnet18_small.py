"""torchvision's ResNet-18 with random weights at a CPU-sized input (1 x 3 x 64 x 64): the model
scripts/gpu-check.sh optimizes end to end."""
import torch
import torchvision


def get_model():
    return torchvision.models.resnet18(weights=None)


def get_inputs():
    return [torch.randn(1, 3, 64, 64)]
