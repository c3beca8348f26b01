#!/usr/bin/python3
"""PyTorch reference values for max_pool2d and avg_pool2d (read by tests/test_pool.cpp).

For every case this writes into tests/golden/pool/:
  <case>_x0.npy          the input (float64, from numpy RandomState)
  <case>_w.npy           random weights w (float64) for the loss sum(out * w)
  <case>_y_<dt>.npy      PyTorch's output computed in dt (f32 or f64)
  <case>_dx0_<dt>.npy    d sum(out * w) / d input, computed in dt
The case parameters (windows, strides, padding) are repeated in the C++ test.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pool")
DTYPES = {"f32": torch.float32, "f64": torch.float64}

# name -> (input shape, function of the torch input, quantised input)
CASES = {
    # Inception-v3's stride-2 max pool, and one with padding.
    "max_k3s2": ((2, 3, 9, 11), lambda x: F.max_pool2d(x, 3, 2), False),
    "max_k3s1p1": ((1, 2, 6, 7), lambda x: F.max_pool2d(x, 3, 1, 1), False),
    "max_aniso": ((2, 2, 7, 8), lambda x: F.max_pool2d(x, (2, 3), (2, 1), (1, 1)), False),
    # Inputs in {-2, ..., 2}: windows with equal maxima (the first one in scan order wins).
    "max_ties": ((1, 2, 6, 7), lambda x: F.max_pool2d(x, 3, 1, 1), True),
    # pytorch-fid's FID Inception blocks, and torchvision's.
    "avg_fid": ((2, 3, 7, 6), lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False), False),
    "avg_tv": ((2, 3, 7, 6), lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=True), False),
    "avg_aniso": (
        (1, 2, 8, 5),
        lambda x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 1), count_include_pad=False),
        False,
    ),
    "avg_k2s2": ((1, 2, 6, 6), lambda x: F.avg_pool2d(x, 2, 2), False),
}


def save(name, array):
    np.save(os.path.join(OUT_DIR, name + ".npy"), np.ascontiguousarray(array))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for seed, (case, (shape, fn, quantised)) in enumerate(CASES.items()):
        rs = np.random.RandomState(2000 + seed)
        x = rs.randint(-2, 3, size=shape).astype(np.float64) if quantised else rs.randn(*shape)
        save(f"{case}_x0", x)
        with torch.no_grad():
            out_shape = fn(torch.from_numpy(x)).shape
        w = rs.randn(*out_shape)
        save(f"{case}_w", w)
        for tag, dtype in DTYPES.items():
            xt = torch.tensor(x, dtype=dtype, requires_grad=True)
            y = fn(xt)
            assert y.dtype == dtype, (case, y.dtype)
            (y * torch.tensor(w, dtype=dtype)).sum().backward()
            save(f"{case}_y_{tag}", y.detach().numpy())
            save(f"{case}_dx0_{tag}", xt.grad.numpy())


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
