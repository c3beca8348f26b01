#!/usr/bin/python3
"""PyTorch reference values for 2-D convolution (read by tests/test_conv.cpp).

Small float64 cases write into tests/golden/conv/:
  <case>_x.npy, <case>_w.npy, <case>_b.npy   inputs (float64, numpy RandomState; no _b without bias)
  <case>_r.npy                               random weights r for the loss sum(out * r)
  <case>_y.npy, <case>_dx.npy, <case>_dw.npy, <case>_db.npy   output and gradients of the loss

The float32 UNet-sized case ("unet_f32": N=2, 64->64, 16x16, 3x3, padding 1) would need several
hundred KB of stored inputs, so its inputs come from the integer formula in `formula()`, which the
C++ test reproduces exactly, and only every STRIDES[name]-th element of y, dx and dw is stored
(as float32, the dtype PyTorch computed in); db is stored whole.
The case parameters are repeated in the C++ test.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv")

# name -> (N, Ci, Co, H, W, kh, kw, stride, padding, bias); padding is an int or (on H, on W)
CASES = {
    "k3_s1_p1": (2, 3, 4, 6, 5, 3, 3, 1, 1, True),
    "k3_s2_p0_odd": (3, 2, 5, 7, 5, 3, 3, 2, 0, True),
    "k1_nobias": (2, 6, 3, 4, 4, 1, 1, 1, 0, False),
    "k3_s2_p1_down": (1, 4, 4, 8, 8, 3, 3, 2, 1, True),
    "k2x3_s2_p1": (1, 3, 2, 5, 6, 2, 3, 2, 1, True),
    "k1x7_p0x3": (2, 3, 4, 5, 9, 1, 7, 1, (0, 3), True),  # Inception's 1x7 and 7x1
    "k7x1_p3x0": (1, 4, 3, 9, 5, 7, 1, 1, (3, 0), False),
    "k3x5_s2_p2x1": (2, 2, 3, 7, 8, 3, 5, 2, (2, 1), True),
}

UNET = (2, 64, 64, 16, 16, 3, 3, 1, 1)
STRIDES = {"y": 7, "dx": 7, "dw": 5}


def formula(n, mult, mod, scale):
    """Deterministic values in [-scale, scale): ((i * mult) % mod) / (mod / 2) - 1, times scale."""
    i = np.arange(n, dtype=np.int64)
    return (((i * mult) % mod).astype(np.float64) / (mod / 2.0) - 1.0) * scale


def run(x, w, b, r, stride, padding):
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    if b is not None:
        b = b.clone().requires_grad_(True)
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    (y * r).sum().backward()
    return y.detach(), x.grad, w.grad, None if b is None else b.grad


def save(name, t):
    np.save(os.path.join(OUT_DIR, name + ".npy"), t)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for seed, (name, (n, ci, co, h, w_, kh, kw, stride, pad, has_bias)) in enumerate(CASES.items()):
        rs = np.random.RandomState(100 + seed)
        x = rs.randn(n, ci, h, w_)
        w = rs.randn(co, ci, kh, kw) * 0.5
        b = rs.randn(co) if has_bias else None
        pad_h, pad_w = pad if isinstance(pad, tuple) else (pad, pad)
        ho = (h + 2 * pad_h - kh) // stride + 1
        wo = (w_ + 2 * pad_w - kw) // stride + 1
        r = rs.randn(n, co, ho, wo)
        t = lambda a: None if a is None else torch.from_numpy(a)
        y, dx, dw, db = run(t(x), t(w), t(b), t(r), stride, pad)
        save(f"{name}_x", x)
        save(f"{name}_w", w)
        save(f"{name}_r", r)
        save(f"{name}_y", y.numpy())
        save(f"{name}_dx", dx.numpy())
        save(f"{name}_dw", dw.numpy())
        if has_bias:
            save(f"{name}_b", b)
            save(f"{name}_db", db.numpy())

    n, ci, co, h, w_, kh, kw, stride, pad = UNET
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w_ + 2 * pad - kw) // stride + 1
    x = formula(n * ci * h * w_, 7919, 2003, 1.0).reshape(n, ci, h, w_)
    w = formula(co * ci * kh * kw, 104729, 1009, 0.05).reshape(co, ci, kh, kw)
    b = formula(co, 13, 17, 0.5)
    r = formula(n * co * ho * wo, 31337, 997, 1.0).reshape(n, co, ho, wo)
    f32 = lambda a: torch.from_numpy(a.astype(np.float32))
    f64 = lambda a: torch.from_numpy(a)
    out32 = run(f32(x), f32(w), f32(b), f32(r), stride, pad)
    out64 = run(f64(x), f64(w), f64(b), f64(r), stride, pad)
    for key, a32, a64 in zip(("y", "dx", "dw", "db"), out32, out64):
        err = (a32.double() - a64).abs().max().item()
        print(f"unet_f32 {key}: max |f32 - f64| = {err:.3g}, max |f64| = {a64.abs().max():.3g}")
        flat = a32.numpy().reshape(-1)
        save(f"unet_f32_{key}", flat[:: STRIDES.get(key, 1)].copy())


if __name__ == "__main__":
    main()
