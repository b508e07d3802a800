# Correct: cuBLAS GEMMs (torch.matmul) with bias + ReLU fused into one CUDA epilogue kernel per layer, built with load_inline (expect: passed on cuda)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_DECL = r"""
#include <torch/extension.h>
torch::Tensor bias_act_(torch::Tensor y, torch::Tensor bias, bool relu);
"""

_CUDA_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAException.h>
#include <algorithm>
#include <cstdint>

template <bool RELU>
__device__ __forceinline__ float act(float v) {
    return RELU ? fmaxf(v, 0.0f) : v;
}

// y is a contiguous [rows, cols] matrix; element i is in column i % cols.
template <bool RELU>
__global__ void bias_act_kernel(float* __restrict__ y, const float* __restrict__ bias,
                                int64_t n, int64_t cols) {
    const int64_t stride = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = act<RELU>(y[i] + bias[i % cols]);
    }
}

// Same with float4: cols % 4 == 0 and both pointers 16-byte aligned; n4 = n / 4, cols4 = cols / 4.
template <bool RELU>
__global__ void bias_act_kernel_vec4(float4* __restrict__ y, const float4* __restrict__ bias,
                                     int64_t n4, int64_t cols4) {
    const int64_t stride = (int64_t)blockDim.x * gridDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) {
        float4 v = y[i];
        const float4 b = bias[i % cols4];
        v.x = act<RELU>(v.x + b.x);
        v.y = act<RELU>(v.y + b.y);
        v.z = act<RELU>(v.z + b.z);
        v.w = act<RELU>(v.w + b.w);
        y[i] = v;
    }
}

template <bool RELU>
static void launch(float* yp, const float* bp, int64_t n, int64_t cols, bool vec,
                   int64_t blocks, int threads, cudaStream_t stream) {
    if (vec) {
        bias_act_kernel_vec4<RELU><<<(unsigned int)blocks, threads, 0, stream>>>(
            reinterpret_cast<float4*>(yp), reinterpret_cast<const float4*>(bp), n / 4, cols / 4);
    } else {
        bias_act_kernel<RELU><<<(unsigned int)blocks, threads, 0, stream>>>(yp, bp, n, cols);
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// In place on y (a fresh GEMM output, never a caller's tensor): y = act(y + bias).
torch::Tensor bias_act_(torch::Tensor y, torch::Tensor bias, bool relu) {
    TORCH_CHECK(y.is_cuda() && bias.is_cuda(), "bias_act_: expected CUDA tensors");
    TORCH_CHECK(y.scalar_type() == at::kFloat && bias.scalar_type() == at::kFloat,
                "bias_act_: expected float32 tensors");
    TORCH_CHECK(y.is_contiguous(), "bias_act_: y must be contiguous");
    TORCH_CHECK(bias.dim() == 1 && y.dim() >= 1 && y.size(-1) == bias.size(0),
                "bias_act_: bias must be [cols] with cols = y.size(-1)");
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
    if (relu) {
        launch<true>(yp, bp, n, cols, vec, blocks, threads, stream);
    } else {
        launch<false>(yp, bp, n, cols, vec, blocks, threads, stream);
    }
    return y;
}
"""

_ext = load_inline(
    name="kswarm_test_mlp_cuda",
    cpp_sources=_CPP_DECL,
    cuda_sources=_CUDA_SOURCE,
    functions=["bias_act_"],
    extra_cuda_cflags=["-O3"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        # Built exactly as the reference (same modules, same order, same kaiming re-init), so the
        # parameters match under the same seed.
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_features),
        )
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        h = x
        layers = (self.net[0], self.net[2], self.net[4])
        for k, layer in enumerate(layers):
            y = torch.matmul(h, layer.weight.t()).contiguous()  # cuBLAS, no bias; a fresh tensor
            h = _ext.bias_act_(y, layer.bias, k < len(layers) - 1)
        return h
