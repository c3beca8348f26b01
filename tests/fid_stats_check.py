#!/usr/bin/python3
"""Feature statistics, the Fréchet distance and KID against the Python references:
- statistics of features added in batches against np.mean and np.cov(rowvar=False);
- the Fréchet distance of statistics files (np.savez, np.savez_compressed, float32) against
  pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm), to a relative 1e-6;
- KID's per-subset unbiased MMD² (polynomial kernel) against the formula in numpy, on the subsets
  the C++ side drew.

  fid_stats_check.py BUILD_DIR      (exit 77 = skipped: numpy, scipy or pytorch-fid missing)

"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import scipy  # noqa: F401
    from pytorch_fid.fid_score import calculate_frechet_distance
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

FD_RTOL = 1e-6


def run(build, *args):
    exe = os.path.join(build, "tests", "s2dm-fid-stats-check")
    out = subprocess.run([exe, *map(str, args)], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def features(rng, n, d, shift=0.0, scale=1.0, latent=32):
    """Correlated non-negative features, like pooled ReLU activations."""
    a = rng.standard_normal((latent, d)) * 0.3 * scale
    z = rng.standard_normal((n, latent))
    return np.maximum(z @ a + 0.2 + shift + 0.5 * rng.standard_normal((n, d)), 0)


def check_stats(build, d, x, batch, label):
    f = os.path.join(d, "feat.npz")
    np.savez(f, features=x)
    res = run(build, "stats", f, batch, os.path.join(d, "stats.npz"))
    got = np.load(os.path.join(d, "stats.npz"))
    assert got["mu"].dtype == np.float64 and got["sigma"].dtype == np.float64
    x64 = x.astype(np.float64)
    mu, sigma = np.mean(x64, axis=0), np.cov(x64, rowvar=False)
    err_mu = np.abs(got["mu"] - mu).max() / np.abs(mu).max()
    err_sigma = np.abs(got["sigma"] - sigma).max() / np.abs(sigma).max()
    print(f"stats {label}: N={x.shape[0]} D={x.shape[1]} batch={batch}: max rel err mu {err_mu:.2e}, "
          f"sigma {err_sigma:.2e} ({res['seconds']:.3f} s)")
    assert err_mu < 1e-12 and err_sigma < 1e-12, label
    return got


def save_stats(path, x, compressed=False, dtype=np.float64):
    mu, sigma = np.mean(x, axis=0).astype(dtype), np.cov(x, rowvar=False).astype(dtype)
    (np.savez_compressed if compressed else np.savez)(path, mu=mu, sigma=sigma)
    return mu.astype(np.float64), sigma.astype(np.float64)


def check_fd(build, d, xa, xb, label, compressed=False, dtype=np.float64):
    pa, pb = os.path.join(d, "a.npz"), os.path.join(d, "b.npz")
    mu1, s1 = save_stats(pa, xa, compressed, dtype)
    mu2, s2 = save_stats(pb, xb, compressed, dtype)
    ours = run(build, "fd", pa, pb)
    ref = float(calculate_frechet_distance(mu1, s1, mu2, s2))
    rel = abs(ours["fd"] - ref) / abs(ref)
    print(f"fd {label}: s2dm {ours['fd']:.12g}, pytorch-fid {ref:.12g}, rel diff {rel:.2e} "
          f"(s2dm {ours['seconds']:.3f} s)")
    assert rel < FD_RTOL, label
    return ours, ref


def mmd2_unbiased(x, y):
    m, dim = x.shape
    kxx = (x @ x.T / dim + 1) ** 3
    kyy = (y @ y.T / dim + 1) ** 3
    kxy = (x @ y.T / dim + 1) ** 3
    return ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.sum() / m**2


def check_kid(build, d, xa, xb, subsets, max_size, seed, label):
    pa, pb, po = (os.path.join(d, n) for n in ("ka.npz", "kb.npz", "kout.npz"))
    np.savez(pa, features=xa)
    np.savez(pb, features=xb)
    ours = run(build, "kid", pa, pb, subsets, max_size, seed, po)
    out = np.load(po)
    m = min(max_size, len(xa), len(xb))
    assert ours["subset_size"] == m and out["subset_a"].shape == (subsets, m)
    a64, b64 = xa.astype(np.float64), xb.astype(np.float64)
    ref = []
    for ia, ib in zip(out["subset_a"], out["subset_b"]):
        assert len(set(ia)) == m and len(set(ib)) == m, "subset drawn with replacement"
        assert ia.min() >= 0 and ia.max() < len(xa) and ib.min() >= 0 and ib.max() < len(xb)
        ref.append(mmd2_unbiased(a64[ia], b64[ib]))
    ref = np.array(ref)
    scale = np.abs(ref).max()
    err_sub = np.abs(out["mmd2"] - ref).max() / scale
    err_mean = abs(ours["kid_mean"] - ref.mean()) / abs(ref.mean())
    err_std = abs(ours["kid_std"] - ref.std()) / max(ref.std(), 1e-300)
    print(f"kid {label}: s2dm {ours['kid_mean']:.10g} ± {ours['kid_std']:.4g}, numpy {ref.mean():.10g} ± "
          f"{ref.std():.4g}; rel diff per subset {err_sub:.2e}, mean {err_mean:.2e}, std {err_std:.2e} "
          f"({ours['seconds']:.3f} s)")
    assert err_sub < 1e-9 and err_mean < 1e-9 and err_std < 1e-7, label
    again = run(build, "kid", pa, pb, subsets, max_size, seed, po)
    assert again["kid_mean"] == ours["kid_mean"], "KID is not reproducible for a fixed seed"


def main():
    build = sys.argv[1]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        check_stats(build, d, features(rng, 500, 64).astype(np.float32), 37, "float32")
        check_stats(build, d, 1e4 + rng.standard_normal((2000, 16)), 100, "offset 1e4")
        check_stats(build, d, features(rng, 1200, 512), 1200, "one batch")

        check_fd(build, d, features(rng, 50, 64), features(rng, 50, 64, shift=0.1), "50 samples, D=64 (singular)")
        check_fd(build, d, features(rng, 500, 64), features(rng, 500, 64, scale=1.2), "500 samples, D=64")
        check_fd(build, d, features(rng, 800, 512), features(rng, 800, 512, shift=0.05), "800 samples, D=512",
                 compressed=True)
        check_fd(build, d, features(rng, 400, 256), features(rng, 400, 256, scale=0.9), "D=256 float32 files",
                 dtype=np.float32)
        check_fd(build, d, features(rng, 3000, 2048), features(rng, 3000, 2048, shift=0.02),
                 "3000 samples, D=2048", compressed=True)
        x = features(rng, 300, 128)
        pa = os.path.join(d, "same.npz")
        mu, sigma = save_stats(pa, x)
        same = run(build, "fd", pa, pa)
        ref = float(calculate_frechet_distance(mu, sigma, mu, sigma))
        print(f"fd equal statistics: s2dm {same['fd']:.3e}, pytorch-fid {ref:.3e} (tr sigma {same['trace1']:.4g})")
        assert abs(same["fd"]) < 1e-9 * same["trace1"]

        check_kid(build, d, features(rng, 300, 64), features(rng, 250, 64, shift=0.1), 20, 100, 7, "m=100")
        check_kid(build, d, features(rng, 60, 32).astype(np.float32), features(rng, 80, 32), 5, 1000, 1,
                  "m=min(N)=60")
        check_kid(build, d, features(rng, 1500, 2048), features(rng, 1200, 2048, shift=0.02), 4, 1000, 3,
                  "m=1000, D=2048")
    print("all checks passed")


if __name__ == "__main__":
    main()
