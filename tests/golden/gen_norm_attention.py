#!/usr/bin/env python3
"""Golden values for group norm, group norm + SiLU, softmax and attention (tests/test_norm.cpp,
tests/test_attention.cpp).

Each case stores its inputs, a random weight w, PyTorch's output and the gradients of
sum(out * w) with respect to every input, all as float64 .npy files in tests/golden/norm/ and
tests/golden/attention/. Small cases draw inputs from numpy.random.RandomState.

The two UNet-shape cases (group norm + SiLU on [2,128,16,16] with 32 groups; attention with
B=2, N=M=64, C=D=128) are checked in float32 on the C++ side. Storing their full tensors would
take megabytes, so their inputs come from hashed_uniform() below, which the C++ test reproduces
bit for bit, rounded to float32 before PyTorch sees them; only every SUB_STRIDE-th element of each
large output/gradient is stored (parameter gradients are stored whole).

Run with Debian's torch: /usr/bin/python3 tests/golden/gen_norm_attention.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-6
SUB_STRIDE = 61

MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def hashed_uniform(n, seed):
    """n values in [0, 1): splitmix64 finalizer of i * golden + seed, top 53 bits."""
    z = np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = (z ^ (z >> np.uint64(31))) & MASK64
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def hashed_f32(shape, seed, scale, shift):
    """scale * (2u - 1) + shift, rounded to float32, returned as float64."""
    u = hashed_uniform(int(np.prod(shape)), seed)
    return (scale * (2.0 * u - 1.0) + shift).astype(np.float32).astype(np.float64).reshape(shape)


def save(family, name, arr):
    os.makedirs(os.path.join(HERE, family), exist_ok=True)
    np.save(os.path.join(HERE, family, name + ".npy"), np.ascontiguousarray(arr, dtype=np.float64))


def run(fn, inputs, w):
    """out = fn(*inputs), then grads of sum(out * w) for each input that is not None."""
    ts = [None if a is None else torch.tensor(a, dtype=torch.float64, requires_grad=True)
          for a in inputs]
    out = fn(*ts)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), [None if t is None else t.grad.numpy() for t in ts]


def gn_case(name, seed, shape, groups, affine, silu):
    rs = np.random.RandomState(seed)
    x = rs.randn(*shape) * 2.0 + 0.5
    gamma = 1.0 + 0.3 * rs.randn(shape[1]) if affine else None
    beta = 0.2 * rs.randn(shape[1]) if affine else None
    w = rs.randn(*shape)

    def fn(xt, gt, bt):
        y = F.group_norm(xt, groups, gt, bt, eps=EPS)
        return F.silu(y) if silu else y

    y, (dx, dgamma, dbeta) = run(fn, [x, gamma, beta], w)
    save("norm", name + "_x", x)
    save("norm", name + "_w", w)
    save("norm", name + "_y", y)
    save("norm", name + "_dx", dx)
    if affine:
        save("norm", name + "_gamma", gamma)
        save("norm", name + "_beta", beta)
        save("norm", name + "_dgamma", dgamma)
        save("norm", name + "_dbeta", dbeta)


def gn_unet():
    shape = (2, 128, 16, 16)
    x = hashed_f32(shape, 101, 1.5, 0.3)
    gamma = hashed_f32((128,), 102, 0.2, 1.0)
    beta = hashed_f32((128,), 103, 0.1, 0.0)
    w = hashed_f32(shape, 104, 1.0, 0.0)
    y, (dx, dgamma, dbeta) = run(
        lambda xt, gt, bt: F.silu(F.group_norm(xt, 32, gt, bt, eps=EPS)), [x, gamma, beta], w)
    save("norm", "gn_unet_y_sub", y.reshape(-1)[::SUB_STRIDE])
    save("norm", "gn_unet_dx_sub", dx.reshape(-1)[::SUB_STRIDE])
    save("norm", "gn_unet_dgamma", dgamma)
    save("norm", "gn_unet_dbeta", dbeta)


def softmax_cases():
    rs = np.random.RandomState(7)
    x = rs.randn(3, 5, 7) * 3.0
    w = rs.randn(3, 5, 7)
    save("norm", "softmax_x", x)
    save("norm", "softmax_w", w)
    for tag, dim in (("last", -1), ("dim1", 1)):
        y, (dx,) = run(lambda xt: F.softmax(xt, dim=dim), [x], w)
        save("norm", f"softmax_{tag}_y", y)
        save("norm", f"softmax_{tag}_dx", dx)


def attention_fn(scale):
    return lambda q, k, v: torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1) @ v


def attn_case(name, seed, b, n, m, c, d, scale):
    rs = np.random.RandomState(seed)
    q = rs.randn(b, n, c)
    k = rs.randn(b, m, c)
    v = rs.randn(b, m, d)
    w = rs.randn(b, n, d)
    o, (dq, dk, dv) = run(attention_fn(scale), [q, k, v], w)
    for key, arr in (("q", q), ("k", k), ("v", v), ("w", w), ("o", o), ("dq", dq), ("dk", dk),
                     ("dv", dv)):
        save("attention", f"{name}_{key}", arr)


def attn_unet():
    b, n, c = 2, 64, 128
    q = hashed_f32((b, n, c), 201, 1.7, 0.0)
    k = hashed_f32((b, n, c), 202, 1.7, 0.0)
    v = hashed_f32((b, n, c), 203, 1.0, 0.2)
    w = hashed_f32((b, n, c), 204, 1.0, 0.0)
    o, grads = run(attention_fn(c ** -0.5), [q, k, v], w)
    save("attention", "attn_unet_o_sub", o.reshape(-1)[::SUB_STRIDE])
    for key, g in zip(("dq", "dk", "dv"), grads):
        save("attention", f"attn_unet_{key}_sub", g.reshape(-1)[::SUB_STRIDE])


def main():
    gn_case("gn_affine", 1, (2, 6, 5, 3), 3, affine=True, silu=False)
    gn_case("gn_silu", 2, (2, 8, 7), 4, affine=True, silu=True)
    gn_case("gn_plain", 3, (3, 4, 4, 4), 2, affine=False, silu=False)
    gn_case("gn_plain_silu", 4, (1, 6, 3, 5), 6, affine=False, silu=True)
    gn_unet()
    softmax_cases()
    attn_case("attn_a", 11, 2, 5, 7, 4, 3, 4 ** -0.5)
    attn_case("attn_b", 12, 1, 6, 3, 5, 8, 0.3)
    attn_unet()


if __name__ == "__main__":
    main()
