#!/usr/bin/env python3
"""tools/python/sample_failures.py on images built to fail one way each: a garment from the test
set, a blown-out image, a speckled one, one both; and its refusal of a non-image .npz.
Usage: sample_failures_test.py   (exit 77: numpy missing)
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:
    print("skipped: %s" % e)
    sys.exit(77)

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "python",
                    "sample_failures.py")
sys.path.insert(0, os.path.dirname(TOOL))
import sample_failures  # noqa: E402

test = sample_failures.load("fmnist-test")
garment = np.pad(test[0], 2)
blown = np.full((32, 32), 255, np.uint8)
blown[:, :20] = 0  # 37.5 % white, smooth: blown out only
odd = np.indices((32, 32)).sum(axis=0) % 2
speckled = (odd * 200).astype(np.uint8)  # neighbours differ by 200, nothing near white
both = (odd * 255).astype(np.uint8)  # half the pixels white and neighbours 255 apart
images = np.stack([garment, blown, speckled, both])[..., None]

assert sample_failures.failures(test) == (0.0, 0.0, 0.0), "the test set itself counts as failed"
b, s, f = sample_failures.failures(images[..., 0])
assert (b, s, f) == (0.5, 0.5, 0.75), (b, s, f)

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "s.npz")
    np.savez(path, images)
    out = subprocess.run([sys.executable, TOOL, path], capture_output=True, text=True, check=True).stdout
    row = out.splitlines()[1].split()
    assert row[1:] == ["4", "50.0%", "50.0%", "75.0%"], out
    bad = os.path.join(tmp, "bad.npz")
    np.savez(bad, np.zeros((3, 4), np.float32))
    p = subprocess.run([sys.executable, TOOL, bad], capture_output=True, text=True)
    assert p.returncode != 0 and "arr_0" in p.stderr, (p.returncode, p.stderr)
print("all checks passed")
