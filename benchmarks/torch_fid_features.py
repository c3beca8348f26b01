#!/usr/bin/python3
"""pytorch-fid reference for benchmarks/bench_fid_features.cpp, which runs this script.

  torch_fid_features.py --threads T --batch B --size S [--runs R] [--warmup W]

pytorch-fid's FID Inception-v3 (its FID blocks in torchvision's network, random weights: the
time does not depend on them) on a batch of B random RGB images of S×S in [0, 1], resized to
299×299 inside the model as pytorch-fid does, in float32 on the CPU under torch.no_grad().
Prints "torch VERSION" and "batch <median seconds>"; exits 2 when torch, torchvision or
pytorch-fid cannot be imported.
"""
import argparse
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        import torch
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
        import pytorch_fid.inception as pfi
        from fid_inception_parity import random_fid_inception
    except ImportError as e:
        print(f"pytorch-fid is not importable: {e}", file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(args.threads)
    net = random_fid_inception()
    pfi.fid_inception_v3 = lambda: net
    model = pfi.InceptionV3([3]).eval()
    x = torch.rand(args.batch, 3, args.size, args.size)
    times = []
    with torch.no_grad():
        for i in range(args.warmup + args.runs):
            t0 = time.perf_counter()
            model(x)
            if i >= args.warmup:
                times.append(time.perf_counter() - t0)
    print(f"torch {torch.__version__}")
    print(f"batch {statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
