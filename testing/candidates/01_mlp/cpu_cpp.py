# Correct: the three layers as at::addmm GEMMs with the ReLUs fused into OpenMP C++ loops, built with load_inline (expect: passed on cpu)
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP_SOURCE = r"""
#include <torch/extension.h>

static void check_cpu_float(const torch::Tensor& t, const char* what) {
    TORCH_CHECK(t.device().is_cpu(), "mlp_forward: ", what, " must be a CPU tensor");
    TORCH_CHECK(t.scalar_type() == torch::kFloat32, "mlp_forward: ", what,
                " must be float32, got ", t.scalar_type());
}

// x2 @ w^T + b through ATen's BLAS, then (optionally) ReLU in place over the fresh result.
static torch::Tensor linear_act(const torch::Tensor& x2, const torch::Tensor& w,
                                const torch::Tensor& b, bool relu) {
    TORCH_CHECK(w.dim() == 2 && b.dim() == 1 && b.size(0) == w.size(0) && x2.size(1) == w.size(1),
                "mlp_forward: layer shapes do not line up");
    torch::Tensor out = at::addmm(b, x2, w.t());
    TORCH_CHECK(out.is_contiguous(), "mlp_forward: addmm result is not contiguous");
    if (relu) {
        float* o = out.data_ptr<float>();
        const int64_t n = out.numel();
        #pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) {
            o[i] = o[i] > 0.0f ? o[i] : 0.0f;
        }
    }
    return out;
}

torch::Tensor mlp_forward(torch::Tensor x, torch::Tensor w1, torch::Tensor b1,
                          torch::Tensor w2, torch::Tensor b2, torch::Tensor w3, torch::Tensor b3) {
    check_cpu_float(x, "x");
    check_cpu_float(w1, "w1"); check_cpu_float(b1, "b1");
    check_cpu_float(w2, "w2"); check_cpu_float(b2, "b2");
    check_cpu_float(w3, "w3"); check_cpu_float(b3, "b3");
    TORCH_CHECK(x.size(-1) == w1.size(1), "mlp_forward: x has ", x.size(-1),
                " features, the first layer expects ", w1.size(1));
    torch::Tensor h = x.contiguous().reshape({-1, w1.size(1)});
    h = linear_act(h, w1, b1, true);
    h = linear_act(h, w2, b2, true);
    h = linear_act(h, w3, b3, false);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = w3.size(0);
    return h.reshape(shape);
}
"""

_ext = load_inline(
    name="kswarm_test_mlp_cpp",
    cpp_sources=_CPP_SOURCE,
    functions=["mlp_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
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
        l1, l2, l3 = self.net[0], self.net[2], self.net[4]
        return _ext.mlp_forward(x.contiguous(), l1.weight, l1.bias, l2.weight, l2.bias,
                                l3.weight, l3.bias)
