"""Golden values for the UNet and the S²-DM loss (tests/test_unet_golden.cpp).

A PyTorch transcription of the DDPM/DDIM UNet (method.md §5) at a tiny configuration, run in
float64: parameters, inputs, the output, the gradient of sum(out * w) and the S²-DM loss with its
gradient for every parameter.
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unet")
CFG = dict(ch=8, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,), resolution=8,
           in_channels=1, out_channels=1, groups=4)


def timestep_embedding(t, dim):
    half = dim // 2
    f = math.log(10000) / (half - 1)
    f = torch.exp(torch.arange(half, dtype=t.dtype) * -f)
    e = t[:, None] * f[None, :]
    return torch.cat([torch.sin(e), torch.cos(e)], dim=1)


def norm(c):
    return nn.GroupNorm(CFG["groups"], c, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)
        self.cin, self.cout = cin, cout

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.cin != self.cout:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        k = k.reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * (c ** -0.5), dim=2)
        v = v.reshape(b, c, hh * ww)
        h = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        ch, mult = CFG["ch"], CFG["ch_mult"]
        temb = 4 * ch
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, temb), nn.Linear(temb, temb)])
        self.conv_in = nn.Conv2d(CFG["in_channels"], ch, 3, 1, 1)
        res = CFG["resolution"]
        in_mult = (1,) + tuple(mult)
        self.down = nn.ModuleList()
        for lvl in range(len(mult)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            bin_, bout = ch * in_mult[lvl], ch * mult[lvl]
            for _ in range(CFG["num_res_blocks"]):
                block.append(ResnetBlock(bin_, bout, temb))
                bin_ = bout
                if res in CFG["attn_resolutions"]:
                    attn.append(AttnBlock(bin_))
            d = nn.Module()
            d.block, d.attn = block, attn
            if lvl != len(mult) - 1:
                d.downsample = nn.Module()
                d.downsample.conv = nn.Conv2d(bin_, bin_, 3, 2, 0)
                res //= 2
            self.down.append(d)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(bin_, bin_, temb)
        self.mid.attn_1 = AttnBlock(bin_)
        self.mid.block_2 = ResnetBlock(bin_, bin_, temb)
        self.up = nn.ModuleList()
        for lvl in reversed(range(len(mult))):
            block, attn = nn.ModuleList(), nn.ModuleList()
            bout = ch * mult[lvl]
            skip = ch * mult[lvl]
            for i in range(CFG["num_res_blocks"] + 1):
                if i == CFG["num_res_blocks"]:
                    skip = ch * in_mult[lvl]
                block.append(ResnetBlock(bin_ + skip, bout, temb))
                bin_ = bout
                if res in CFG["attn_resolutions"]:
                    attn.append(AttnBlock(bin_))
            u = nn.Module()
            u.block, u.attn = block, attn
            if lvl != 0:
                u.upsample = nn.Module()
                u.upsample.conv = nn.Conv2d(bin_, bin_, 3, 1, 1)
                res *= 2
            self.up.insert(0, u)
        self.norm_out = norm(bin_)
        self.conv_out = nn.Conv2d(bin_, CFG["out_channels"], 3, 1, 1)

    def forward(self, x, t):
        n = len(CFG["ch_mult"])
        temb = self.temb.dense[1](F.silu(self.temb.dense[0](timestep_embedding(t, CFG["ch"]))))
        hs = [self.conv_in(x)]
        for lvl in range(n):
            for i in range(CFG["num_res_blocks"]):
                h = self.down[lvl].block[i](hs[-1], temb)
                if len(self.down[lvl].attn) > 0:
                    h = self.down[lvl].attn[i](h)
                hs.append(h)
            if lvl != n - 1:
                hs.append(self.down[lvl].downsample.conv(F.pad(hs[-1], (0, 1, 0, 1))))
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(hs[-1], temb)), temb)
        for lvl in reversed(range(n)):
            for i in range(CFG["num_res_blocks"] + 1):
                h = self.up[lvl].block[i](torch.cat([h, hs.pop()], dim=1), temb)
                if len(self.up[lvl].attn) > 0:
                    h = self.up[lvl].attn[i](h)
            if lvl != 0:
                h = self.up[lvl].upsample.conv(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def betas_alphas_cumprod(T=1000):
    betas = np.linspace(1e-4, 0.02, T, dtype=np.float64).astype(np.float32)
    return torch.cumprod(1.0 - torch.from_numpy(betas).double(), dim=0)


def s2dm_loss(out, e1, e2, t, skip, tau):
    ab = betas_alphas_cumprod()
    a_t = ab[t]
    a_prev = ab[torch.clamp(t - skip, min=0)]
    a_skip = a_t / a_prev
    c = torch.sqrt((1 - a_skip) / a_skip)[:, None, None, None]
    l0 = ((e1 - out) ** 2).mean(dim=(1, 2, 3))
    ls = ((e2 - c * out) ** 2).mean(dim=(1, 2, 3))
    per = torch.where(t < skip, l0, tau * l0 + (1 - tau) * ls)
    return per.mean()


def main():
    os.makedirs(os.path.join(OUT, "params"), exist_ok=True)
    torch.manual_seed(7)
    model = Model().double()
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
