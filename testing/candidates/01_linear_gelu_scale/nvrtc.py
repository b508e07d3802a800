# Correct: cuBLAS GEMM (torch.matmul) plus an NVRTC kernel (kswarm_rt) fusing bias + exact-erf GELU + scale in place (expect: passed on cuda)
import torch
import torch.nn as nn

import kswarm_rt

_SOURCE = r"""
extern "C" __global__ void bias_gelu_scale(float* __restrict__ y, const float* __restrict__ bias,
                                           float scale, int rows, int cols) {
  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i >= (long long)rows * cols) return;
  float v = y[i] + bias[i % cols];
  y[i] = 0.5f * v * (1.f + erff(v * 0.70710678118654752f)) * scale;
}
"""

_kernel = kswarm_rt.kernel(_SOURCE, "bias_gelu_scale")


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)  # same parameters, same init order
        self.scale = float(scale)

    def forward(self, x):
        y = torch.matmul(x, self.linear.weight.t()).contiguous()  # fresh memory, written in place
        rows, cols = y.shape
        threads = 256
        _kernel(grid=((rows * cols + threads - 1) // threads,), block=(threads,),
                args=(y, self.linear.bias, self.scale, rows, cols))
        return y
