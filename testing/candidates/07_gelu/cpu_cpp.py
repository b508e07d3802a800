# Correct: exact-erf GELU as an OpenMP C++ kernel built with load_inline (expect: passed on cpu)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_SOURCE = r"""
#include <torch/extension.h>
#include <cmath>

torch::Tensor gelu_forward(torch::Tensor x) {
    TORCH_CHECK(x.device().is_cpu(), "gelu_forward: expected a CPU tensor");
    TORCH_CHECK(x.scalar_type() == torch::kFloat32, "gelu_forward: expected float32, got ",
                x.scalar_type());
    torch::Tensor xc = x.contiguous();
    TORCH_CHECK(xc.is_contiguous(), "gelu_forward: input must be contiguous");
    torch::Tensor out = torch::empty(xc.sizes(), xc.options());
    const float* in = xc.data_ptr<float>();
    float* o = out.data_ptr<float>();
    const int64_t n = xc.numel();
    const float inv_sqrt2 = 0.70710678118654752440f;
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        const float v = in[i];
        o[i] = 0.5f * v * (1.0f + std::erf(v * inv_sqrt2));
    }
    return out;
}
"""

_ext = load_inline(
    name="kswarm_test_gelu_cpp",
    cpp_sources=_CPP_SOURCE,
    functions=["gelu_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return _ext.gelu_forward(x.contiguous())
