"""PyTorch reference implementations of s2dm's model and loss.

Used by the golden-file generators (tests/golden), the PyTorch side of the benchmarks, and the
checkpoint converter: the DDPM/DDIM UNet (docs/method.md §5) with the public checkpoints'
parameter names, the linear noise schedule and the S²-DM loss (docs/method.md §3).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "cifar10": dict(ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2, attn_resolutions=(16,),
                    dropout=0.1, in_channels=3, out_channels=3, resolution=32, groups=32),
    "celeba": dict(ch=128, ch_mult=(1, 2, 2, 2, 4), num_res_blocks=2, attn_resolutions=(16,),
                   dropout=0.1, in_channels=3, out_channels=3, resolution=64, groups=32),
    "fmnist": dict(ch=64, ch_mult=(1, 2, 2), num_res_blocks=2, attn_resolutions=(16,),
                   dropout=0.1, in_channels=1, out_channels=1, resolution=32, groups=32),
    "fmnist-small": dict(ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, attn_resolutions=(8,),
                         dropout=0.0, in_channels=1, out_channels=1, resolution=32, groups=32),
}


def timestep_embedding(t, dim):
    half = dim // 2
    f = math.log(10000) / (half - 1)
    f = torch.exp(torch.arange(half, dtype=t.dtype, device=t.device) * -f)
    e = t[:, None] * f[None, :]
    emb = torch.cat([torch.sin(e), torch.cos(e)], dim=1)
    return F.pad(emb, (0, 1)) if dim % 2 == 1 else emb


def _norm(c, groups):
    return nn.GroupNorm(groups, c, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb, groups, dropout):
        super().__init__()
        self.norm1 = _norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = _norm(cout, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)
        self.cin, self.cout = cin, cout

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        if self.cin != self.cout:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = _norm(c, groups)
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


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg = dict(cfg)
        ch, mult, g, p = cfg["ch"], tuple(cfg["ch_mult"]), cfg["groups"], cfg["dropout"]
        temb = 4 * ch
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, temb), nn.Linear(temb, temb)])
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch, 3, 1, 1)
        res = cfg["resolution"]
        in_mult = (1,) + mult
        self.down = nn.ModuleList()
        for lvl in range(len(mult)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            bin_, bout = ch * in_mult[lvl], ch * mult[lvl]
            for _ in range(cfg["num_res_blocks"]):
                block.append(ResnetBlock(bin_, bout, temb, g, p))
                bin_ = bout
                if res in cfg["attn_resolutions"]:
                    attn.append(AttnBlock(bin_, g))
            d = nn.Module()
            d.block, d.attn = block, attn
            if lvl != len(mult) - 1:
                d.downsample = nn.Module()
                d.downsample.conv = nn.Conv2d(bin_, bin_, 3, 2, 0)
                res //= 2
            self.down.append(d)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(bin_, bin_, temb, g, p)
        self.mid.attn_1 = AttnBlock(bin_, g)
        self.mid.block_2 = ResnetBlock(bin_, bin_, temb, g, p)
        self.up = nn.ModuleList()
        for lvl in reversed(range(len(mult))):
            block, attn = nn.ModuleList(), nn.ModuleList()
            bout = ch * mult[lvl]
            skip = ch * mult[lvl]
            for i in range(cfg["num_res_blocks"] + 1):
                if i == cfg["num_res_blocks"]:
                    skip = ch * in_mult[lvl]
                block.append(ResnetBlock(bin_ + skip, bout, temb, g, p))
                bin_ = bout
                if res in cfg["attn_resolutions"]:
                    attn.append(AttnBlock(bin_, g))
            u = nn.Module()
            u.block, u.attn = block, attn
            if lvl != 0:
                u.upsample = nn.Module()
                u.upsample.conv = nn.Conv2d(bin_, bin_, 3, 1, 1)
                res *= 2
            self.up.insert(0, u)
        self.norm_out = _norm(bin_, g)
        self.conv_out = nn.Conv2d(bin_, cfg["out_channels"], 3, 1, 1)

    def forward(self, x, t):
        cfg = self.cfg
        n = len(cfg["ch_mult"])
        temb = self.temb.dense[1](F.silu(self.temb.dense[0](timestep_embedding(t, cfg["ch"]))))
        hs = [self.conv_in(x)]
        for lvl in range(n):
            for i in range(cfg["num_res_blocks"]):
                h = self.down[lvl].block[i](hs[-1], temb)
                if len(self.down[lvl].attn) > 0:
                    h = self.down[lvl].attn[i](h)
                hs.append(h)
            if lvl != n - 1:
                hs.append(self.down[lvl].downsample.conv(F.pad(hs[-1], (0, 1, 0, 1))))
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(hs[-1], temb)), temb)
        for lvl in reversed(range(n)):
            for i in range(cfg["num_res_blocks"] + 1):
                h = self.up[lvl].block[i](torch.cat([h, hs.pop()], dim=1), temb)
                if len(self.up[lvl].attn) > 0:
                    h = self.up[lvl].attn[i](h)
            if lvl != 0:
                h = self.up[lvl].upsample.conv(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def alphas_cumprod(T=1000):
    """ᾱ_t as the reference code computes it: float32 betas (linspace in float64, then rounded),
    (1 − β).cumprod in float32, widened to float64."""
    betas = torch.from_numpy(np.linspace(1e-4, 0.02, T, dtype=np.float64)).float()
    return (1.0 - betas).cumprod(dim=0).double()


def s2dm_loss(out, e1, e2, t, skip=9, tau=0.99):
    """L = mean_i [ℓ0 if t_i < skip else τ·ℓ0 + (1−τ)·ℓskip], MEAN over C,H,W.

    The loss of docs/method.md §3.
    """
    ab = alphas_cumprod().to(device=out.device, dtype=out.dtype)
    a_skip = ab[t] / ab[torch.clamp(t - skip, min=0)]
    c = torch.sqrt((1 - a_skip) / a_skip)[:, None, None, None]
    l0 = ((e1 - out) ** 2).mean(dim=(1, 2, 3))
    ls = ((e2 - c * out) ** 2).mean(dim=(1, 2, 3))
    return torch.where(t < skip, l0, tau * l0 + (1 - tau) * ls).mean()
