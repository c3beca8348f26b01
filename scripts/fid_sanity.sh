#!/usr/bin/env bash
# The sanity figures of docs/evaluation.md: s2dm-fid's Fashion-MNIST FD between the train and test
# splits, and between the test split and its first 5,000 images, unchanged and perturbed (Gaussian
# noise of σ = 8, 16, 32 grey levels; 3×3 and 5×5 box blur). Needs a build (bash scripts/build.sh) and Debian's
# python3-numpy. Usage: scripts/fid_sanity.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/fid-sanity}
mkdir -p "$out"
fid=build/tools/s2dm-fid
/usr/bin/python3 - "$out" <<'PY'
import gzip, sys
import numpy as np
out = sys.argv[1]
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    test = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
x = np.pad(test[:5000], ((0, 0), (2, 2), (2, 2))).astype(np.float64)  # as s2dm's loader pads
rng = np.random.RandomState(0)
def save(name, imgs):
    np.savez(f"{out}/{name}.npz", np.clip(np.rint(imgs), 0, 255).astype(np.uint8)[..., None])
save("clean", x)
for s in (8, 16, 32):
    save(f"noise{s}", x + rng.normal(0, s, x.shape))
def box(imgs, k):
    p = np.pad(imgs, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)), mode="edge")
    return sum(p[:, i:i + 32, j:j + 32] for i in range(k) for j in range(k)) / (k * k)
for k in (3, 5):
    save(f"blur{k}", box(x, k))
PY
"$fid" fmnist:train fmnist:test --features fmnist --quiet --json "$out/train_vs_test.json"
for p in clean noise8 noise16 noise32 blur3 blur5; do
  echo "test vs $p:"
  "$fid" fmnist:test "$out/$p.npz" --features fmnist --quiet --json "$out/test_vs_$p.json"
done
