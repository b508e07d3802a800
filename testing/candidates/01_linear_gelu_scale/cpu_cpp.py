# Correct: at::addmm for the GEMM plus an OpenMP C++ loop fusing exact-erf GELU and the scale, built with load_inline (expect: passed on cpu)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_SOURCE = r"""
#include <torch/extension.h>
#include <cmath>

static void check_cpu_float(const torch::Tensor& t, const char* what) {
    TORCH_CHECK(t.device().is_cpu(), "linear_gelu_scale: ", what, " must be a CPU tensor");
    TORCH_CHECK(t.scalar_type() == torch::kFloat32, "linear_gelu_scale: ", what,
                " must be float32, got ", t.scalar_type());
}

// out = gelu(x @ weight^T + bias) * scale; x is [..., in], weight [out, in], bias [out].
torch::Tensor linear_gelu_scale(torch::Tensor x, torch::Tensor weight, torch::Tensor bias,
                                double scale) {
    check_cpu_float(x, "x");
    check_cpu_float(weight, "weight");
    check_cpu_float(bias, "bias");
    TORCH_CHECK(weight.dim() == 2 && bias.dim() == 1 && bias.size(0) == weight.size(0),
                "linear_gelu_scale: weight must be [out, in] and bias [out]");
    TORCH_CHECK(x.size(-1) == weight.size(1), "linear_gelu_scale: x has ", x.size(-1),
                " features, weight expects ", weight.size(1));
    torch::Tensor x2 = x.contiguous().reshape({-1, weight.size(1)});
    // GEMM plus bias through ATen's BLAS; the result is a fresh contiguous [rows, out] tensor.
    torch::Tensor out = at::addmm(bias, x2, weight.t());
    TORCH_CHECK(out.is_contiguous(), "linear_gelu_scale: addmm result is not contiguous");
    float* o = out.data_ptr<float>();
    const int64_t n = out.numel();
    const float s = static_cast<float>(scale);
    const float inv_sqrt2 = 0.70710678118654752440f;
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        const float v = o[i];
        o[i] = 0.5f * v * (1.0f + std::erf(v * inv_sqrt2)) * s;
    }
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = weight.size(0);
    return out.reshape(shape);
}
"""

_ext = load_inline(
    name="kswarm_test_linear_gelu_scale_cpp",
    cpp_sources=_CPP_SOURCE,
    functions=["linear_gelu_scale"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)  # same parameters, same init order
        self.scale = float(scale)

    def forward(self, x):
        return _ext.linear_gelu_scale(x.contiguous(), self.linear.weight, self.linear.bias,
                                      self.scale)
