#!/usr/bin/env python3
"""Data-parallel scaling model for s2dm-train (docs/distributed.md).

Predicts the step time on N GPUs from a measured one-GPU step and the cost of the bucketed ring
all-reduce, overlapped with backward the way engine/dist/grad_buckets.cpp does it:
  - the gradient (4 bytes a parameter) is cut into buckets of --bucket-mb in reverse parameter order;
  - backward produces the buckets at an even rate over its duration (assumption A3);
  - bucket k's all-reduce starts when it is ready and the previous one has finished (one stream);
    it takes 2(N-1)/N * bytes / busBW + 2(N-1) * alpha (ring: bandwidth term + per-hop latency);
  - what is not finished when backward ends is exposed: step(N) = step(1) + exposed.
Efficiency = step(1) / step(N) (weak scaling: the per-GPU batch stays the same).

    python3 scripts/scaling_model.py [--bucket-mb 25] [--markdown]
"""
import argparse
import math

# Measured (docs/benchmarks.md): CIFAR-10 UNet, batch 128, H200, s2dm float32/TF32: 65.5 ms/step.
CIFAR_STEP_MS = 65.5
BACKWARD_SHARE = 2.0 / 3.0  # A2: backward ~ 2x forward, the usual ratio for convolutional nets

# A1: interconnects (large-message all-reduce bus bandwidth per GPU, per-hop latency).
LINKS = {
    "NVLink (8 GPUs, NVSwitch)": (360e9, 3e-6),  # ~80 % of the ~450 GB/s nccl-tests show on H100/H200 nodes
    "InfiniBand 400 Gb/s per GPU": (40e9, 8e-6),  # 50 GB/s line rate at 80 %
    "InfiniBand 200 Gb/s per GPU": (20e9, 8e-6),
}


def unet_macs(ch, mult, res, blocks, attn):
    """Multiply-accumulates of one forward pass per image (3x3/1x1 convs and attention)."""
    macs = 9 * 3 * ch * res * res  # conv_in (3 channels; 1 for the gray presets, a rounding error)
    chans, skips, c, r = [], [ch], ch, res

    def resblock(cin, cout, r):
        m = 9 * cin * cout * r * r + 9 * cout * cout * r * r
        return m + (cin * cout * r * r if cin != cout else 0)

    def attention(c, r):
        n = r * r
        return 4 * c * c * n + 2 * n * n * c

    for i, m in enumerate(mult):
        for _ in range(blocks):
            macs += resblock(c, ch * m, r)
            c = ch * m
            if r in attn:
                macs += attention(c, r)
            skips.append(c)
        if i + 1 < len(mult):
            macs += 9 * c * c * (r // 2) ** 2
            r //= 2
            skips.append(c)
    macs += 2 * resblock(c, c, r) + attention(c, r)  # middle
    for i, m in reversed(list(enumerate(mult))):
        for _ in range(blocks + 1):
            macs += resblock(c + skips.pop(), ch * m, r)
            c = ch * m
            if r in attn:
                macs += attention(c, r)
        if i > 0:
            r *= 2
            macs += 9 * c * c * r * r
    return macs + 9 * c * 3 * r * r


MODELS = {
    # name: (parameters, forward MACs per image, 1-GPU step ms)
    "cifar10": (35.75e6, unet_macs(128, [1, 2, 2, 2], 32, 2, {16}), None),
    "celeba": (78.7e6, unet_macs(128, [1, 2, 2, 2, 4], 64, 2, {16}), None),
}


def exposed_ms(step_ms, grad_bytes, bucket_bytes, n, bus_bw, alpha):
    k = max(1, math.ceil(grad_bytes / bucket_bytes))
    sizes = [bucket_bytes] * (k - 1) + [grad_bytes - bucket_bytes * (k - 1)]
    backward = step_ms * BACKWARD_SHARE
    done = 0.0
    for i, b in enumerate(sizes):
        ready = backward * (i + 1) / k
        cost = (2 * (n - 1) / n * b / bus_bw + 2 * (n - 1) * alpha) * 1e3
        done = max(done, ready) + cost
    comm = sum((2 * (n - 1) / n * b / bus_bw + 2 * (n - 1) * alpha) * 1e3 for b in sizes)
    return max(0.0, done - backward), comm


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bucket-mb", type=float, default=25)
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args()
    cifar_macs = MODELS["cifar10"][1]
    rows = []
    for name, (params, macs, _) in MODELS.items():
        step = CIFAR_STEP_MS * macs / cifar_macs  # A4: same throughput per MAC as the CIFAR-10 step
        for n, link in [(8, "NVLink (8 GPUs, NVSwitch)"), (64, "InfiniBand 400 Gb/s per GPU"),
                        (64, "InfiniBand 200 Gb/s per GPU"), (512, "InfiniBand 400 Gb/s per GPU"),
                        (512, "InfiniBand 200 Gb/s per GPU")]:
            bw, alpha = LINKS[link]
            exp, comm = exposed_ms(step, params * 4, a.bucket_mb * 1e6, n, bw, alpha)
            rows.append((name, f"{params / 1e6:.2f} M", f"{macs / 1e9:.2f}", f"{step:.1f}", n, link,
                         f"{comm:.1f}", f"{exp:.1f}", f"{100 * step / (step + exp):.1f} %"))
    head = ("model", "params", "GMAC/img", "1-GPU step ms", "GPUs", "interconnect", "all-reduce ms",
            "exposed ms", "efficiency")
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if i in (0, 5) else "---:" for i in range(len(head))) + "|")
        for r in rows:
            print("| " + " | ".join(str(x) for x in r) + " |")
    else:
        for r in [head] + rows:
            print("  ".join(f"{str(x):>14}" for x in r))


if __name__ == "__main__":
    main()
