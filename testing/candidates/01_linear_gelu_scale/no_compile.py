# Build failure: C++ type error, the double* from data_ptr<double>() is assigned to a float* (expect: compile_error)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_SOURCE = r"""
#include <torch/extension.h>
#include <cmath>

torch::Tensor linear_gelu_scale(torch::Tensor x, torch::Tensor weight, torch::Tensor bias,
                                double scale) {
    TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat32,
                "linear_gelu_scale: expected a float32 CPU tensor");
    torch::Tensor out = at::addmm(bias, x.contiguous(), weight.t());
    float* o = out.data_ptr<double>();
    const int64_t n = out.numel();
    const float s = static_cast<float>(scale);
    #pragma omp parallel for
    for (int64_t i = 0; i < n; ++i) {
        o[i] = 0.5f * o[i] * (1.0f + std::erf(o[i] * 0.70710678118654752440f)) * s;
    }
    return out;
}
"""

_ext = load_inline(
    name="kswarm_test_linear_gelu_scale_nocompile",
    cpp_sources=_CPP_SOURCE,
    functions=["linear_gelu_scale"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = float(scale)

    def forward(self, x):
        return _ext.linear_gelu_scale(x.contiguous(), self.linear.weight, self.linear.bias,
                                      self.scale)
