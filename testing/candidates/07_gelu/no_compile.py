# Build failure: the C++ loop uses an undeclared identifier `numel` (expect: compile_error)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_SOURCE = r"""
#include <torch/extension.h>
#include <cmath>

torch::Tensor gelu_forward(torch::Tensor x) {
    TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat32,
                "gelu_forward: expected a float32 CPU tensor");
    torch::Tensor xc = x.contiguous();
    torch::Tensor out = torch::empty(xc.sizes(), xc.options());
    const float* in = xc.data_ptr<float>();
    float* o = out.data_ptr<float>();
    const int64_t n = xc.numel();
    #pragma omp parallel for
    for (int64_t i = 0; i < numel; ++i) {
        o[i] = 0.5f * in[i] * (1.0f + std::erf(in[i] * 0.70710678118654752440f));
    }
    return out;
}
"""

_ext = load_inline(
    name="kswarm_test_gelu_nocompile",
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
