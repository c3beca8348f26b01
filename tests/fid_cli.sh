#!/usr/bin/env bash
# s2dm-fid end to end on the Fashion-MNIST feature network: a set against itself is at distance 0,
# saved statistics give the FD the images gave, JSON agrees with the printed line, images from a
# folder equal the same images from an .npz; and every bad input is a clear error with a non-zero
# exit: an empty folder, mixed image sizes, a malformed .npz, fewer than 2 images, statistics of
# another dimension, NaN features, missing flags. Usage: fid_cli.sh BUILD_DIR
set -uo pipefail
fid="$1/tools/s2dm-fid"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_checks.sh"
py=/usr/bin/python3

# Test images as files: an .npz of uint8 N x 32 x 32 x 1, and the same images as PNGs (written
# with zlib by hand, so no imaging package is needed), plus a folder of mixed sizes.
"$py" - "$work" <<'PY'
import os, struct, sys, zlib
import numpy as np
work = sys.argv[1]
rng = np.random.RandomState(1)
imgs = rng.randint(0, 256, size=(40, 32, 32, 1), dtype=np.uint8)
np.savez(f"{work}/imgs.npz", imgs)
np.savez(f"{work}/one.npz", imgs[:1])
np.savez(f"{work}/float.npz", imgs.astype(np.float32))
np.savez(f"{work}/stats64.npz", mu=np.zeros(64), sigma=np.eye(64))
open(f"{work}/broken.npz", "wb").write(b"PK\x03\x04" + os.urandom(200))
def png(path, a):
    h, w = a.shape
    raw = b"".join(b"\x00" + a[y].tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for d in ("folder", "mixed", "empty"):
    os.makedirs(f"{work}/{d}")
for i in range(40):
    png(f"{work}/folder/{i:03d}.png", imgs[i, :, :, 0])
png(f"{work}/mixed/a.png", imgs[0, :, :, 0])
png(f"{work}/mixed/b.png", imgs[1, :28, :28, 0])
PY

fm=("$fid" --features fmnist --quiet)
out=$("${fm[@]}" fmnist:test fmnist:test --limit 500 --kid-subsets 5 --json "$work/self.json")
check "a set against itself: FD 0 ($out)" "$py" -c "
import json, sys; r = json.load(open('$work/self.json'))
assert abs(r['fid']) < 1e-6, r"
"${fm[@]}" fmnist:train fmnist:test --limit 500 --kid-subsets 5 --json "$work/split.json" >/dev/null
"${fm[@]}" "$work/imgs.npz" fmnist:test --kid-subsets 5 --json "$work/noise.json" >/dev/null
check "noise images are far from Fashion-MNIST, the two splits near (FD and KID)" "$py" -c "
import json; s = json.load(open('$work/split.json')); n = json.load(open('$work/noise.json'))
assert n['fid'] > 10 * s['fid'] and n['kid']['mean'] > 10 * abs(s['kid']['mean']), (s, n)"
check "... and the printed line is the JSON's" grep -q "FD (fmnist features): $("$py" -c "import json; print('%.6f' % json.load(open('$work/self.json'))['fid'])")" <<<"$out"

"${fm[@]}" fmnist:test --limit 500 --save-stats "$work/test500.npz" >/dev/null
"${fm[@]}" "$work/imgs.npz" "$work/test500.npz" --json "$work/vs_stats.json" >/dev/null
"${fm[@]}" "$work/imgs.npz" fmnist:test --limit 500 --no-kid --json "$work/vs_images.json" >/dev/null
check "saved statistics give the FD the images give" "$py" -c "
import json; a = json.load(open('$work/vs_stats.json'))['fid']; b = json.load(open('$work/vs_images.json'))['fid']
assert a > 1 and abs(a - b) <= 1e-9 * b, (a, b)"
check "... and numpy reads them (mu [128], sigma [128, 128])" "$py" -c "
import numpy as np; s = np.load('$work/test500.npz'); assert s['mu'].shape == (128,) and s['sigma'].shape == (128, 128)"
"${fm[@]}" "$work/folder" "$work/imgs.npz" --json "$work/folder.json" >/dev/null
check "a folder of PNGs equals the same images from an .npz" "$py" -c "
import json; r = json.load(open('$work/folder.json')); assert abs(r['fid']) < 1e-6, r"

expect_error "an empty folder" "contains no .png, .jpg or .jpeg files" "${fm[@]}" "$work/empty" "$work/imgs.npz"
expect_error "mixed image sizes" "b.png" "${fm[@]}" "$work/mixed" "$work/imgs.npz"
expect_error "a malformed .npz" "broken.npz" "${fm[@]}" "$work/broken.npz" "$work/imgs.npz"
expect_error "float images in an .npz" "must be uint8" "${fm[@]}" "$work/float.npz" "$work/imgs.npz"
expect_error "fewer than 2 images" "statistics need at least 2" "${fm[@]}" "$work/one.npz" "$work/imgs.npz"
expect_error "statistics of another dimension" "different feature networks" "${fm[@]}" "$work/imgs.npz" "$work/stats64.npz"
expect_error "one input and nothing to save" "--save-stats" "${fm[@]}" "$work/imgs.npz"
expect_error "an unknown input" "is not a data set" "${fm[@]}" "$work/nothing" "$work/imgs.npz"
expect_error "inception without weights names the converter" "convert_fid_weights.py" \
  env -u S2DM_FID_WEIGHTS "$fid" "$work/imgs.npz" "$work/imgs.npz" --quiet
"$py" - "$work" "$(dirname "$0")/../models/weights/fmnist_features.safetensors" <<'PY'
import json, struct, sys
import numpy as np
work, src = sys.argv[1], sys.argv[2]
b = open(src, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; header = json.loads(b[8:8 + n])
data = bytearray(b[8 + n:])
lo, hi = header["conv1.weight"]["data_offsets"]
data[lo:hi] = np.full((hi - lo) // 4, np.nan, np.float32).tobytes()
open(f"{work}/nan.safetensors", "wb").write(b[:8 + n] + bytes(data))
PY
expect_error "NaN features are refused, naming the sample" "sample 0 has a non-finite value (nan)" \
  "${fm[@]}" "$work/imgs.npz" "$work/folder" --weights "$work/nan.safetensors" --save-stats "$work/failed.npz"
check "... and its --save-stats file is not written" test ! -e "$work/failed.npz"
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all s2dm-fid checks passed"
