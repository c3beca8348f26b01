"""Golden values for Adam + gradient-norm clipping + EMA (tests/test_nn.cpp)."""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim")
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(2026)

shapes = {"a.weight": (3, 4), "b": (5,)}
init = {k: rs.randn(*s) for k, s in shapes.items()}
params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
opt = torch.optim.Adam(list(params.values()), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
ema = {k: v.detach().clone() for k, v in params.items()}
decay = 0.9

for k, v in init.items():
    np.save(os.path.join(OUT, f"init_{k}.npy"), v)
for step in range(3):
    # Step 0 has large gradients so clipping to 1.0 fires; later steps are small so it does not.
    scale = 3.0 if step == 0 else 0.05
    for k, p in params.items():
        g = rs.randn(*shapes[k]) * scale
        np.save(os.path.join(OUT, f"grad{step}_{k}.npy"), g)
        p.grad = torch.tensor(g, dtype=torch.float64)
    norm = torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
    np.save(os.path.join(OUT, f"norm{step}.npy"), np.array([norm.item()]))
    opt.step()
    with torch.no_grad():
        for k, p in params.items():
            ema[k].mul_(decay).add_(p, alpha=1 - decay)
    for k, p in params.items():
        np.save(os.path.join(OUT, f"param{step}_{k}.npy"), p.detach().numpy())
        np.save(os.path.join(OUT, f"ema{step}_{k}.npy"), ema[k].numpy())
        st = opt.state[p]
        np.save(os.path.join(OUT, f"m{step}_{k}.npy"), st["exp_avg"].numpy())
        np.save(os.path.join(OUT, f"v{step}_{k}.npy"), st["exp_avg_sq"].numpy())
print("wrote", OUT)
