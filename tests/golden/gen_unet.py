"""Golden values for the UNet and the S²-DM loss (tests/test_unet_golden.cpp).

The PyTorch reference UNet (tools/python/s2dm_reference.py) at a tiny configuration, in float64: parameters, inputs, the output, the gradient of sum(out * w) and the S²-DM loss with its
gradient for every parameter.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "python"))
from s2dm_reference import UNet, s2dm_loss  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unet")
CFG = dict(ch=8, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,), resolution=8,
           in_channels=1, out_channels=1, groups=4, dropout=0.0)


def main():
    os.makedirs(os.path.join(OUT, "params"), exist_ok=True)
    torch.manual_seed(7)
    model = UNet(CFG).double()
    rs = np.random.RandomState(11)
    with torch.no_grad():  # non-trivial norms so the affine paths are tested
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(torch.from_numpy(1.0 * (name.endswith("weight")) + 0.2 * rs.randn(*p.shape)))
    for name, p in model.named_parameters():
        np.save(os.path.join(OUT, "params", name + ".npy"), p.detach().numpy())
    x = rs.randn(3, 1, 8, 8)
    t = np.array([1.0, 250.5, 999.0])
    w = rs.randn(3, 1, 8, 8)
    np.save(os.path.join(OUT, "x.npy"), x)
    np.save(os.path.join(OUT, "t.npy"), t)
    np.save(os.path.join(OUT, "w.npy"), w)
    out = model(torch.from_numpy(x), torch.from_numpy(t))
    np.save(os.path.join(OUT, "out.npy"), out.detach().numpy())
    (out * torch.from_numpy(w)).sum().backward()
    for name, p in model.named_parameters():
        np.save(os.path.join(OUT, "params", name + ".grad_out.npy"), p.grad.numpy())

    # The S²-DM loss on integer time steps, one of them below skip.
    model.zero_grad()
    ti = np.array([2, 400, 999])
    e1, e2 = rs.randn(3, 1, 8, 8), rs.randn(3, 1, 8, 8)
    np.save(os.path.join(OUT, "t_int.npy"), ti.astype(np.float64))
    np.save(os.path.join(OUT, "eps1.npy"), e1)
    np.save(os.path.join(OUT, "eps2.npy"), e2)
    out = model(torch.from_numpy(x), torch.from_numpy(ti.astype(np.float64)))
    loss = s2dm_loss(out, torch.from_numpy(e1), torch.from_numpy(e2), torch.from_numpy(ti), skip=9,
                     tau=0.5)
    np.save(os.path.join(OUT, "loss.npy"), np.array([loss.item()]))
    loss.backward()
    for name, p in model.named_parameters():
        np.save(os.path.join(OUT, "params", name + ".grad_loss.npy"), p.grad.numpy())
    print("wrote", OUT, sum(p.numel() for p in model.parameters()), "parameters")


if __name__ == "__main__":
    main()
