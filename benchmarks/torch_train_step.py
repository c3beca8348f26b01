#!/usr/bin/python3
"""PyTorch reference for benchmarks/bench_train_step.cpp (CPU) and
benchmarks/cuda/bench_cuda_train_step.cpp (--device cuda), which run this script.

  torch_train_step.py --threads T --preset NAME --batch B [--runs R] [--warmup W]
                      [--device cpu|cuda] [--no-tf32]

One S²-DM training step of the reference UNet (tools/python/s2dm_reference.py) in float32:
antithetic t, q_sample, forward, the S²-DM loss (skip 9, τ 0.99, fresh ε2), backward,
clip_grad_norm_(1.0), Adam(2e-4) and an EMA update. Prints "threads T", "torch VERSION",
"params N" and "step <median seconds>". Exits 2 when torch cannot be imported, 3 when
--device cuda is asked of a torch without CUDA. On the GPU, TF32 is allowed for matmuls and
convolutions unless --no-tf32, and each timed step ends with torch.cuda.synchronize().
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "python"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--preset", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--no-tf32", action="store_true")
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        import torch
        from s2dm_reference import PRESETS, UNet, alphas_cumprod, s2dm_loss
    except ImportError as e:
        print(f"torch is not importable: {e}", file=sys.stderr)
        sys.exit(2)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"torch {torch.__version__} has no CUDA device; PyTorch GPU reference not measured")
        sys.exit(3)
    dev = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = not args.no_tf32
    torch.backends.cudnn.allow_tf32 = not args.no_tf32
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = PRESETS[args.preset]
    model = UNet(cfg).to(dev).train()
    ema = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    ab = alphas_cumprod().float().to(dev)
    B, C, R = args.batch, cfg["in_channels"], cfg["resolution"]
    x0 = torch.rand(B, C, R, R, device=dev) * 2 - 1

    def step():
        t = torch.randint(0, 1000, ((B + 1) // 2,), device=dev)
        t = torch.cat([t, 999 - t])[:B]
        e1, e2 = torch.randn_like(x0), torch.randn_like(x0)
        a = ab[t].view(-1, 1, 1, 1)
        xt = x0 * a.sqrt() + e1 * (1 - a).sqrt()
        out = model(xt, t.float())
        loss = s2dm_loss(out, e1, e2, t)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, model.parameters()):
                e.mul_(0.9999).add_(p, alpha=1e-4)

    for _ in range(args.warmup):
        step()
    sync()
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    print(f"threads {torch.get_num_threads()}")
    print(f"torch {torch.__version__}")
    print(f"params {sum(p.numel() for p in model.parameters())}")
    print(f"step {statistics.median(times)}")


if __name__ == "__main__":
    main()
