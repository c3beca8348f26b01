#!/usr/bin/python3
"""Checkpoint conversion end to end: a DDIM-format PyTorch checkpoint of the reference UNet is
converted to safetensors, sampled by s2dm-sample (DDIM, 2 steps, given noise), compared with the
same sampler run in PyTorch, and converted back to a state dict equal to the original.

  convert_roundtrip.py BUILD_DIR      (exit 77 = skipped: torch or safetensors missing)
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "python"))
try:
    import numpy as np
    import torch
    import safetensors  # noqa: F401
    from s2dm_reference import PRESETS, UNet, alphas_cumprod
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)


def main():
    build = sys.argv[1]
    conv = os.path.join(HERE, "..", "tools", "python", "convert_checkpoint.py")
    torch.manual_seed(3)
    cfg = PRESETS["fmnist-small"]
    model = UNet(cfg).eval()
    ema = UNet(cfg).eval()
    with tempfile.TemporaryDirectory() as d:
        ckpt = os.path.join(d, "ckpt.pth")
        torch.save([{"module." + k: v for k, v in model.state_dict().items()}, {}, 1, 100,
                    ema.state_dict()], ckpt)
        st = os.path.join(d, "model.safetensors")
        subprocess.run([sys.executable, conv, "to-s2dm", ckpt, st, "--preset", "fmnist-small", "--ema"], check=True)

        noise = np.random.RandomState(0).randn(2, 1, 32, 32).astype(np.float32)
        np.save(os.path.join(d, "noise.npy"), noise)
        npz = os.path.join(d, "out.npz")
        subprocess.run([os.path.join(build, "tools", "s2dm-sample"), st, "--steps", "2", "--init-noise",
                        os.path.join(d, "noise.npy"), "--npz", npz], check=True)
        ours = np.load(npz)["arr_0"].astype(np.int64)

        ab = alphas_cumprod().double()
        x = torch.from_numpy(noise).double()
        net = ema.double()
        with torch.no_grad():
            for t, s in [(500, 0), (0, -1)]:
                a_t, a_s = ab[t], (ab[s] if s >= 0 else torch.tensor(1.0, dtype=torch.float64))
                e = net(x, torch.full((2,), float(t), dtype=torch.float64))
                x0 = (x - (1 - a_t).sqrt() * e) / a_t.sqrt()
                x = a_s.sqrt() * x0 + (1 - a_s).sqrt() * e
        ref = ((x.clamp(-1, 1) + 1) * 127.5).round().permute(0, 2, 3, 1).numpy().astype(np.int64)
        diff = np.abs(ours - ref).max()
        print(f"max |s2dm - torch| over {ref.size} pixels: {diff}")
        assert ours.shape == ref.shape, (ours.shape, ref.shape)
        assert diff <= 1, "sampled images differ"

        back = os.path.join(d, "back.pth")
        subprocess.run([sys.executable, conv, "to-torch", st, back], check=True)
        sd = torch.load(back)
        for k, v in ema.state_dict().items():
            assert torch.equal(sd[k].double(), v.double()), k
        print(f"round trip: {len(sd)} tensors identical")
        bad = subprocess.run([sys.executable, conv, "to-s2dm", ckpt, st, "--preset", "cifar10"],
                             capture_output=True, text=True)
        assert bad.returncode != 0 and "does not match" in bad.stderr, bad.stderr
    print("conversion checks passed")


if __name__ == "__main__":
    main()
