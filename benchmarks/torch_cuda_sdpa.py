#!/usr/bin/python3
"""PyTorch SDPA reference for benchmarks/cuda/bench_cuda_kernels.cpp (single head, float32 with
TF32 allowed, CUDA events, median of 50 after 5 warm-up). Prints one line per shape, or one line
saying why it cannot run (no torch, or a torch without CUDA)."""
import argparse
import statistics
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"PyTorch SDPA not measured: {e}")
        return
    if not torch.cuda.is_available() or not hasattr(F, "scaled_dot_product_attention"):
        print(f"PyTorch SDPA not measured: torch {torch.__version__} has no CUDA device or SDPA")
        return
    torch.backends.cuda.matmul.allow_tf32 = True
    for n, c in ((256, 256), (64, 256), (1024, 128)):
        q, k, v = (torch.randn(args.batch, 1, n, c, device="cuda", requires_grad=True) for _ in range(3))
        do = torch.randn(args.batch, 1, n, c, device="cuda")
        times = {"fwd": [], "bwd": []}
        for i in range(55):
            s, m, e = (torch.cuda.Event(enable_timing=True) for _ in range(3))
            s.record()
            o = F.scaled_dot_product_attention(q, k, v)
            m.record()
            o.backward(do)
            e.record()
            torch.cuda.synchronize()
            if i >= 5:
                times["fwd"].append(s.elapsed_time(m) * 1e-3)
                times["bwd"].append(m.elapsed_time(e) * 1e-3)
        f = 4.0 * args.batch * n * n * c
        print(f"SDPA B={args.batch} N=M={n} C={c} fwd {f / statistics.median(times['fwd']) * 1e-12:.1f} "
              f"TFLOP/s bwd {2.5 * f / statistics.median(times['bwd']) * 1e-12:.1f} TFLOP/s")


if __name__ == "__main__":
    sys.exit(main())
