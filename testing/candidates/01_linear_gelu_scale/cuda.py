# Correct: cuBLAS GEMM (torch.matmul) plus a CUDA kernel fusing bias + exact-erf GELU + scale, built with load_inline (expect: passed on cuda)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_DECL = r"""
#include <torch/extension.h>
torch::Tensor bias_gelu_scale_(torch::Tensor y, torch::Tensor bias, double scale);
"""

_CUDA_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAException.h>
#include <algorithm>
#include <cstdint>

__device__ __forceinline__ float gelu_erf(float v) {
    return 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
}

// y is a contiguous [rows, cols] matrix; element i is in column i % cols.
__global__ void bias_gelu_scale_kernel(float* __restrict__ y, const float* __restrict__ bias,
                                       int64_t n, int64_t cols, float scale) {
    const int64_t stride = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = gelu_erf(y[i] + bias[i % cols]) * scale;
    }
}

// Same with float4: cols % 4 == 0 and both pointers 16-byte aligned; n4 = n / 4, cols4 = cols / 4.
__global__ void bias_gelu_scale_kernel_vec4(float4* __restrict__ y, const float4* __restrict__ bias,
                                            int64_t n4, int64_t cols4, float scale) {
    const int64_t stride = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) {
        float4 v = y[i];
        const float4 b = bias[i % cols4];
        v.x = gelu_erf(v.x + b.x) * scale;
        v.y = gelu_erf(v.y + b.y) * scale;
        v.z = gelu_erf(v.z + b.z) * scale;
        v.w = gelu_erf(v.w + b.w) * scale;
        y[i] = v;
    }
}

// In place on y (the fresh GEMM output, never a caller's tensor): y = gelu(y + bias) * scale.
torch::Tensor bias_gelu_scale_(torch::Tensor y, torch::Tensor bias, double scale) {
    TORCH_CHECK(y.is_cuda() && bias.is_cuda(), "bias_gelu_scale_: expected CUDA tensors");
    TORCH_CHECK(y.scalar_type() == at::kFloat && bias.scalar_type() == at::kFloat,
                "bias_gelu_scale_: expected float32 tensors");
    TORCH_CHECK(y.is_contiguous(), "bias_gelu_scale_: y must be contiguous");
    TORCH_CHECK(bias.dim() == 1 && y.dim() >= 1 && y.size(-1) == bias.size(0),
                "bias_gelu_scale_: bias must be [cols] with cols = y.size(-1)");
    const c10::cuda::CUDAGuard guard(y.device());
    torch::Tensor b = bias.contiguous();
    const int64_t n = y.numel();
    const int64_t cols = b.size(0);
    if (n == 0) return y;
    float* yp = y.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    const bool vec = (cols % 4 == 0) && (reinterpret_cast<uintptr_t>(yp) % 16 == 0) &&
                     (reinterpret_cast<uintptr_t>(bp) % 16 == 0);
    const int64_t work = vec ? n / 4 : n;
    const int threads = 256;
    const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>((work + threads - 1) / threads,
                                                                  sms * 16));
    cudaStream_t stream = at::cuda::getCurrentCUDAStream();
    if (vec) {
        bias_gelu_scale_kernel_vec4<<<(unsigned int)blocks, threads, 0, stream>>>(
            reinterpret_cast<float4*>(yp), reinterpret_cast<const float4*>(bp), n / 4, cols / 4,
            static_cast<float>(scale));
    } else {
        bias_gelu_scale_kernel<<<(unsigned int)blocks, threads, 0, stream>>>(
            yp, bp, n, cols, static_cast<float>(scale));
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return y;
}
"""

_ext = load_inline(
    name="kswarm_test_linear_gelu_scale_cuda",
    cpp_sources=_CPP_DECL,
    cuda_sources=_CUDA_SOURCE,
    functions=["bias_gelu_scale_"],
    extra_cuda_cflags=["-O3"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)  # same parameters, same init order
        self.scale = float(scale)

    def forward(self, x):
        y = torch.matmul(x, self.linear.weight.t())  # cuBLAS, no bias; a fresh contiguous tensor
        return _ext.bias_gelu_scale_(y.contiguous(), self.linear.bias, self.scale)
