# Correct: exact-erf GELU as a raw CUDA kernel compiled with NVRTC through kswarm_rt, four elements per thread (expect: passed on cuda)
import torch
import torch.nn as nn

import kswarm_rt

_SOURCE = r"""
extern "C" __global__ void gelu(const float* __restrict__ x, float* __restrict__ y, long long n) {
  long long i = (blockIdx.x * (long long)blockDim.x + threadIdx.x) * 4;
  if (i + 3 < n) {
    float4 v = *reinterpret_cast<const float4*>(x + i);
    float4 r;
    r.x = 0.5f * v.x * (1.f + erff(v.x * 0.70710678118654752f));
    r.y = 0.5f * v.y * (1.f + erff(v.y * 0.70710678118654752f));
    r.z = 0.5f * v.z * (1.f + erff(v.z * 0.70710678118654752f));
    r.w = 0.5f * v.w * (1.f + erff(v.w * 0.70710678118654752f));
    *reinterpret_cast<float4*>(y + i) = r;
  } else {
    for (; i < n; ++i) y[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752f));
  }
}
"""

_gelu = kswarm_rt.kernel(_SOURCE, "gelu")


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        if x.data_ptr() % 16:  # float4 loads need 16-byte alignment (a view may start anywhere)
            x = x.clone()
        y = torch.empty_like(x)
        n = x.numel()
        threads = 256
        blocks = (n + 4 * threads - 1) // (4 * threads)
        _gelu(grid=(blocks,), block=(threads,), args=(x, y, kswarm_rt.i64(n)))
        return y
