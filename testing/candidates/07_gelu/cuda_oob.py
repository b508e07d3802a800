# Broken: a CUDA kernel that writes to an unmapped address, an illegal memory access that poisons the CUDA context (expect: runtime_error on cuda, worker restarted)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

cpp_source = "torch::Tensor gelu_oob(torch::Tensor x);"

cuda_source = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

__global__ void gelu_oob_kernel(const float* x, float* out, long n) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) {
    // Far outside any allocation: the first write faults with an illegal address.
    float* bad = reinterpret_cast<float*>(0xFFFFFFFFFF000000ull);
    bad[i] = x[i];
  }
}

torch::Tensor gelu_oob(torch::Tensor x) {
  auto xc = x.contiguous();
  auto out = torch::empty_like(xc);
  long n = xc.numel();
  int threads = 256;
  int blocks = (int)((n + threads - 1) / threads);
  gelu_oob_kernel<<<blocks, threads, 0, at::cuda::getCurrentCUDAStream()>>>(
      xc.data_ptr<float>(), out.data_ptr<float>(), n);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}
"""

ext = load_inline(name="kswarm_test_gelu_oob", cpp_sources=cpp_source, cuda_sources=cuda_source,
                  functions=["gelu_oob"], verbose=False)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return ext.gelu_oob(x)
