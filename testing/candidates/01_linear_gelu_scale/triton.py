# Correct: cuBLAS GEMM (torch.matmul) plus a Triton kernel fusing bias + exact-erf GELU + scale (expect: passed on cuda)
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _bias_gelu_scale_kernel(y_ptr, b_ptr, out_ptr, n_elements, n_cols, scale,
                            BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    y = tl.load(y_ptr + offs, mask=mask, other=0.0)
    b = tl.load(b_ptr + offs % n_cols, mask=mask, other=0.0)
    v = y + b
    out = 0.5 * v * (1.0 + tl.math.erf(v * 0.7071067811865476)) * scale
    tl.store(out_ptr + offs, out, mask=mask)


class ModelNew(nn.Module):
    BLOCK = 1024

    def __init__(self, in_features, out_features, scale):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)  # same parameters, same init order
        self.scale = float(scale)

    def forward(self, x):
        if not x.is_cuda or x.dtype != torch.float32:
            raise RuntimeError(f"triton epilogue expects a float32 CUDA tensor, got {x.dtype} on {x.device}")
        y = torch.matmul(x, self.linear.weight.t()).contiguous()  # cuBLAS, no bias
        bias = self.linear.bias.contiguous()
        n = y.numel()
        if n == 0:
            return y
        # Written in place over the fresh GEMM output (each element read then stored by one lane).
        grid = (triton.cdiv(n, self.BLOCK),)
        _bias_gelu_scale_kernel[grid](y, bias, y, n, bias.numel(), self.scale, BLOCK=self.BLOCK)
        return y
