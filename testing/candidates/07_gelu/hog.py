# Hog: holds all but 16 MiB of the GPU from construction on and computes GELU correctly, so the
# judge beside it runs out of device memory (expect: runtime_error naming what it held; the run
# goes on: it once ended a sweep as a worker failure)
import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        free, _ = torch.cuda.mem_get_info()
        self.hoard = torch.empty(max(0, free - (16 << 20)), dtype=torch.uint8, device="cuda")

    def forward(self, x):
        return F.gelu(x)
