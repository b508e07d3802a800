# Build failure: at::addmm called with too few arguments (no matching function) in the C++ source (expect: compile_error)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_SOURCE = r"""
#include <torch/extension.h>

static torch::Tensor linear_relu(const torch::Tensor& x, const torch::Tensor& w,
                                 const torch::Tensor& b, bool relu) {
    torch::Tensor out = at::addmm(b, x);
    if (relu) {
        float* o = out.data_ptr<float>();
        const int64_t n = out.numel();
        #pragma omp parallel for
        for (int64_t i = 0; i < n; ++i) o[i] = o[i] > 0.0f ? o[i] : 0.0f;
    }
    return out;
}

torch::Tensor mlp_forward(torch::Tensor x, torch::Tensor w1, torch::Tensor b1,
                          torch::Tensor w2, torch::Tensor b2, torch::Tensor w3, torch::Tensor b3) {
    TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat32,
                "mlp_forward: expected a float32 CPU tensor");
    torch::Tensor h = linear_relu(x.contiguous(), w1, b1, true);
    h = linear_relu(h, w2, b2, true);
    return linear_relu(h, w3, b3, false);
}
"""

_ext = load_inline(
    name="kswarm_test_mlp_nocompile",
    cpp_sources=_CPP_SOURCE,
    functions=["mlp_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
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
        l1, l2, l3 = self.net[0], self.net[2], self.net[4]
        return _ext.mlp_forward(x.contiguous(), l1.weight, l1.bias, l2.weight, l2.bias,
                                l3.weight, l3.bias)
