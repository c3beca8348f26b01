#!/usr/bin/python3
"""PyTorch reference values for nearest 2x upsampling, constant 2-D padding, bilinear resizing,
concatenation and the DDPM sinusoidal timestep embedding (read by tests/test_resample.cpp).

For every case this writes into tests/golden/resample/:
  <case>_x<i>.npy          input i (float64, from numpy RandomState)
  <case>_w.npy             random weights w (float64) for the loss sum(out * w)
  <case>_y_<dt>.npy        PyTorch's output computed in dt (f32 or f64)
  <case>_dx<i>_<dt>.npy    d sum(out * w) / d input i, computed in dt
The case parameters (pads, dims, embedding sizes) are repeated in the C++ test.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resample")
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def get_timestep_embedding(timesteps, embedding_dim):
    """The DDPM/DDIM reference embedding, computed in the dtype of `timesteps` (the original code
    uses float32): half = dim // 2, f_i = exp(-ln(10000) i / (half - 1)), [sin(t f) | cos(t f)],
    zero-padded by one column when dim is odd."""
    dtype = timesteps.dtype
    half_dim = embedding_dim // 2
    scale = math.log(10000) / (half_dim - 1)
    freqs = torch.exp(torch.arange(half_dim, dtype=dtype) * -scale)
    emb = timesteps[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


TIMESTEPS = np.array([0.0, 0.5, 1.0, 17.25, 500.5, 999.0])

# name -> (list of float64 inputs, function of the torch inputs)
CASES = {
    "upsample": (
        lambda rs: [rs.randn(2, 3, 5, 7)],
        lambda xs: F.interpolate(xs[0], scale_factor=2, mode="nearest"),
    ),
    "pad_down": (  # the UNet downsample pad: right and bottom by one
        lambda rs: [rs.randn(2, 3, 5, 7)],
        lambda xs: F.pad(xs[0], (0, 1, 0, 1)),
    ),
    "pad_value": (
        lambda rs: [rs.randn(1, 2, 4, 3)],
        lambda xs: F.pad(xs[0], (2, 1, 3, 0), mode="constant", value=0.75),
    ),
    "cat0": (
        lambda rs: [rs.randn(2, 3, 4), rs.randn(1, 3, 4), rs.randn(3, 3, 4)],
        lambda xs: torch.cat(xs, dim=0),
    ),
    "cat1": (
        lambda rs: [rs.randn(2, 3, 5, 2), rs.randn(2, 1, 5, 2)],
        lambda xs: torch.cat(xs, dim=1),
    ),
    "cat_last": (
        lambda rs: [rs.randn(2, 3, 2), rs.randn(2, 3, 5), rs.randn(2, 3, 1)],
        lambda xs: torch.cat(xs, dim=-1),
    ),
    "temb8": (lambda rs: [TIMESTEPS.copy()], lambda xs: get_timestep_embedding(xs[0], 8)),
    "temb9": (lambda rs: [TIMESTEPS.copy()], lambda xs: get_timestep_embedding(xs[0], 9)),
    "temb128": (lambda rs: [TIMESTEPS.copy()], lambda xs: get_timestep_embedding(xs[0], 128)),
    # Bilinear resizing (align_corners=False), as pytorch-fid resizes to 299x299: up by a
    # non-integer factor, down, and up on one dim while down on the other.
    "bilinear_up": (
        lambda rs: [rs.randn(1, 2, 7, 7)],
        lambda xs: F.interpolate(xs[0], size=(52, 52), mode="bilinear", align_corners=False),
    ),
    "bilinear_down": (
        lambda rs: [rs.randn(2, 1, 13, 10)],
        lambda xs: F.interpolate(xs[0], size=(4, 7), mode="bilinear", align_corners=False),
    ),
    "bilinear_mixed": (
        lambda rs: [rs.randn(2, 2, 5, 9)],
        lambda xs: F.interpolate(xs[0], size=(8, 3), mode="bilinear", align_corners=False),
    ),
}


def save(name, array):
    np.save(os.path.join(OUT_DIR, name + ".npy"), np.ascontiguousarray(array))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for seed, (case, (make_inputs, fn)) in enumerate(CASES.items()):
        rs = np.random.RandomState(1000 + seed)
        inputs = [np.asarray(a, dtype=np.float64) for a in make_inputs(rs)]
        for i, a in enumerate(inputs):
            save(f"{case}_x{i}", a)
        with torch.no_grad():
            out_shape = fn([torch.from_numpy(a) for a in inputs]).shape
        w = rs.randn(*out_shape)
        save(f"{case}_w", w)
        for tag, dtype in DTYPES.items():
            xs = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in inputs]
            y = fn(xs)
            assert y.dtype == dtype, (case, y.dtype)
            (y * torch.tensor(w, dtype=dtype)).sum().backward()
            save(f"{case}_y_{tag}", y.detach().numpy())
            for i, x in enumerate(xs):
                save(f"{case}_dx{i}_{tag}", x.grad.numpy())


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
