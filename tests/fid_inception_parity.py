#!/usr/bin/python3
"""s2dm's FID Inception against pytorch-fid's, feature for feature.

pytorch-fid's FID network is built with random weights (torchvision's Inception-v3 with
pytorch-fid's FID blocks swapped in, as pytorch-fid assembles it, minus the download), its batch
norms given random affine parameters and running statistics calibrated on a batch of images so
that every layer's activations stay of order one. The state dict goes through
tools/python/convert_fid_weights.py; s2dm-fid --save-features computes pool3 features of random
uint8 images (RGB 32x32, grayscale 28x28, RGB 299x299) and they must match pytorch-fid's
(normalised mean squared error <= 1e-8 in float32 on the CPU).

  fid_inception_parity.py BUILD_DIR      (exit 77 = skipped: torch, torchvision, pytorch-fid or
                                          safetensors missing)
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import numpy as np
    import torch
    import safetensors  # noqa: F401
    import pytorch_fid.inception as pfi
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

NMSE_LIMIT = 1e-8


def random_fid_inception():
    """pytorch-fid's FID Inception-v3 structure with random, activation-preserving weights."""
    net = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    # The FID blocks pytorch-fid substitutes into torchvision's network.
    for name, block in [("Mixed_5b", pfi.FIDInceptionA(192, pool_features=32)),
                        ("Mixed_5c", pfi.FIDInceptionA(256, pool_features=64)),
                        ("Mixed_5d", pfi.FIDInceptionA(288, pool_features=64)),
                        ("Mixed_6b", pfi.FIDInceptionC(768, channels_7x7=128)),
                        ("Mixed_6c", pfi.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6d", pfi.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6e", pfi.FIDInceptionC(768, channels_7x7=192)),
                        ("Mixed_7b", pfi.FIDInceptionE_1(1280)),
                        ("Mixed_7c", pfi.FIDInceptionE_2(2048))]:
        setattr(net, name, block)
    return net


def main():
    build = sys.argv[1]
    torch.manual_seed(7)
    rng = np.random.RandomState(11)
    inception = random_fid_inception()
    pfi.fid_inception_v3 = lambda: inception  # InceptionV3 wraps this network instead of downloading
    model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])

    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # running statistics = the calibration batch's
        model.train()
        model(torch.from_numpy(rng.rand(6, 3, 48, 48).astype(np.float32)))
        model.eval()

    batches = [rng.randint(0, 256, size=(4, 32, 32, 3), dtype=np.uint8),
               rng.randint(0, 256, size=(3, 28, 28, 1), dtype=np.uint8),
               rng.randint(0, 256, size=(2, 299, 299, 3), dtype=np.uint8)]
    with tempfile.TemporaryDirectory() as d:
        pth = os.path.join(d, "inception.pth")
        torch.save(inception.state_dict(), pth)
        weights = os.path.join(d, "inception.safetensors")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "tools", "python", "convert_fid_weights.py"),
                        pth, weights], check=True)
        worst = 0.0
        for i, images in enumerate(batches):
            npz = os.path.join(d, f"images{i}.npz")
            np.savez(npz, images)
            feats = os.path.join(d, f"features{i}.npy")
            subprocess.run([os.path.join(build, "tools", "s2dm-fid"), npz, "--weights", weights,
                            "--save-features", feats, "--quiet"], check=True)
            ours = np.load(feats).astype(np.float64)
            x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
            if x.shape[1] == 1:
                x = x.repeat(1, 3, 1, 1)  # pytorch-fid converts images to RGB
            with torch.no_grad():
                want = model(x)[0].squeeze(3).squeeze(2).double().numpy()
            nmse = float(((ours - want) ** 2).sum() / (want ** 2).sum())
            worst = max(worst, nmse)
            print(f"{images.shape}: NMSE {nmse:.3e}, feature scale {np.abs(want).mean():.3f}")
            if ours.shape != want.shape or not nmse <= NMSE_LIMIT:
                print(f"FAILED: features {ours.shape} differ from pytorch-fid's {want.shape} "
                      f"(NMSE {nmse:.3e} > {NMSE_LIMIT})")
                sys.exit(1)
    print(f"ok: s2dm's FID Inception features match pytorch-fid's (worst NMSE {worst:.3e})")


if __name__ == "__main__":
    main()
