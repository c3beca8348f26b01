#!/usr/bin/env python3
"""Count the two ways few-step samples of an under-trained model fail, per .npz of samples.

Usage: sample_failures.py SAMPLES.npz... [--reference fmnist-test]

    blown out   at least a quarter of the pixels at 250 or more: the image saturated to white
    speckled    the mean absolute difference between horizontal neighbours above 80: salt and
                pepper noise instead of a garment

Neither happens in Fashion-MNIST's test set: none of its 10,000 images has more than 21 % of
its pixels at 250 or more, and its neighbour difference is 22.6 on average, 43 at the 99th
percentile and 76.5 at most. So each share counts failed images. The
FD says how far a sample set is from the data; these say what went wrong (docs/results.md).
Needs numpy.
"""
import argparse
import gzip
import sys

import numpy as np

BLOWN_SHARE, BLOWN_LEVEL, SPECKLE_DIFF = 0.25, 250, 80.0


def load(path):
    if path == "fmnist-test":
        with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
            return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with np.load(path) as z:
        x = z["arr_0"]
    if x.ndim != 4 or x.shape[3] != 1 or x.dtype != np.uint8:
        sys.exit("%s: need uint8 images N x H x W x 1 under arr_0 (s2dm-sample --npz), got %s %s"
                 % (path, x.dtype, x.shape))
    return x[..., 0]


def failures(x):
    blown = (x >= BLOWN_LEVEL).mean(axis=(1, 2)) >= BLOWN_SHARE
    speckled = np.abs(np.diff(x.astype(np.int32), axis=2)).mean(axis=(1, 2)) > SPECKLE_DIFF
    return blown.mean(), speckled.mean(), (blown | speckled).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("samples", nargs="+", help=".npz files, or fmnist-test for the test set")
    args = ap.parse_args()
    print("%-40s %8s %10s %10s %8s" % ("samples", "images", "blown out", "speckled", "failed"))
    for path in args.samples:
        x = load(path)
        b, s, f = failures(x)
        print("%-40s %8d %9.1f%% %9.1f%% %7.1f%%" % (path, len(x), 100 * b, 100 * s, 100 * f))


if __name__ == "__main__":
    main()
