#!/usr/bin/python3
"""PyTorch CPU reference timings for benchmarks/bench_cpu_conv_gemm.cpp, which runs this script.

  torch_cpu_conv_gemm.py --threads T [--runs R] [--warmup W]
      [--conv N,Ci,Co,H,W,k,stride,pad ...] [--gemm M,N,K ...]

Times, in float32 with T threads, every conv2d (with bias) and every GEMM y = a[M,K] @ b[K,N]:
forward under no_grad, and backward as torch.autograd.grad of the output with respect to all
inputs (the gradient computation alone, without accumulation into .grad). Each time is the median
of R runs after W warm-up runs. Prints one line per case, in the order given:
  conv <index> <forward seconds> <backward seconds>
  gemm <index> <forward seconds> <backward seconds>
preceded by "threads <T>" and "torch <version>". Exits 2 with a message on stderr when torch
cannot be imported.
"""
import argparse
import os
import statistics
import sys
import time


def median_time(fn, runs, warmup, setup=None):
    for _ in range(warmup):
        fn(setup() if setup else None)
    times = []
    for _ in range(runs):
        arg = setup() if setup else None
        t0 = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--conv", action="append", default=[])
    ap.add_argument("--gemm", action="append", default=[])
    args = ap.parse_args()

    # Thread pools read these when torch (and its BLAS) load.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"torch is not importable: {e}", file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(args.threads)
    print(f"threads {torch.get_num_threads()}")
    print(f"torch {torch.__version__}")
    gen = torch.Generator().manual_seed(0)

    def randn(*shape, grad=False):
        return torch.randn(*shape, generator=gen, dtype=torch.float32).requires_grad_(grad)

    for i, spec in enumerate(args.conv):
        n, ci, co, h, w, k, stride, pad = (int(v) for v in spec.split(","))
        x, wt, b = randn(n, ci, h, w, grad=True), randn(co, ci, k, k, grad=True), randn(co, grad=True)
        with torch.no_grad():
            fwd = median_time(lambda _: F.conv2d(x, wt, b, stride, pad), args.runs, args.warmup)
        g = torch.ones_like(F.conv2d(x.detach(), wt.detach(), b.detach(), stride, pad))
        bwd = median_time(lambda y: torch.autograd.grad(y, (x, wt, b), g), args.runs,
                          args.warmup, setup=lambda: F.conv2d(x, wt, b, stride, pad))
        print(f"conv {i} {fwd:.9f} {bwd:.9f}", flush=True)

    for i, spec in enumerate(args.gemm):
        m, n, k = (int(v) for v in spec.split(","))
        a, b = randn(m, k, grad=True), randn(k, n, grad=True)
        with torch.no_grad():
            fwd = median_time(lambda _: a @ b, args.runs, args.warmup)
        g = torch.ones(m, n)
        bwd = median_time(lambda y: torch.autograd.grad(y, (a, b), g), args.runs, args.warmup,
                          setup=lambda: a @ b)
        print(f"gemm {i} {fwd:.9f} {bwd:.9f}", flush=True)


if __name__ == "__main__":
    main()
