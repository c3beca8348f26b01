#!/usr/bin/python3
"""Convert pytorch-fid's Inception weights to the safetensors file s2dm-fid reads.

  convert_fid_weights.py pt_inception-2015-12-05-6726825d.pth OUT.safetensors

The input is the state dict pytorch-fid downloads for its FID network (torchvision's
Inception-v3 names: Conv2d_1a_3x3.conv.weight, Conv2d_1a_3x3.bn.running_var, ...,
Mixed_7c.branch_pool.bn.bias, fc.weight); pytorch-fid keeps it under
~/.cache/torch/hub/checkpoints/. Every BasicConv2d's batch norm (eps 0.001, inference form) is
folded into its convolution in float64:

  scale = gamma / sqrt(running_var + 0.001)
  conv.weight <- conv.weight * scale (per output channel),  conv.bias <- beta - running_mean * scale

and the result is written as float32 under "<name>.conv.weight" and "<name>.conv.bias". The
classifier (fc.*) is dropped: FID uses the 2048-d pool3 features. Every convolution must come
with its four batch-norm tensors, and no other names may appear, or nothing is written.
Needs Debian's python3-torch and `pip install --no-deps safetensors`.
"""
import argparse
import os
import sys

BN_EPS = 0.001
BN_PARTS = ("weight", "bias", "running_mean", "running_var")


def fail(msg):
    print(f"convert_fid_weights: error: {msg}", file=sys.stderr)
    sys.exit(1)


def fold(sd, source):
    """{name}.conv.weight + {name}.bn.* -> {name}.conv.weight / .conv.bias (float32)."""
    import torch

    convs = sorted(k[: -len(".conv.weight")] for k in sd if k.endswith(".conv.weight"))
    if not convs:
        fail(f"{source} holds no '<name>.conv.weight' tensors: not an Inception state dict")
    used = set()
    out = {}
    for name in convs:
        w = sd[f"{name}.conv.weight"]
        used.add(f"{name}.conv.weight")
        bn = {}
        for part in BN_PARTS:
            key = f"{name}.bn.{part}"
            if key not in sd:
                fail(f"{source}: {key} is missing (every convolution needs its batch norm)")
            bn[part] = sd[key].detach().to(torch.float64)
            used.add(key)
        used.add(f"{name}.bn.num_batches_tracked")
        if w.dim() != 4 or any(t.shape != (w.shape[0],) for t in bn.values()):
            fail(f"{source}: {name} has a weight {tuple(w.shape)} and batch-norm tensors of shapes "
                 f"{[tuple(t.shape) for t in bn.values()]}")
        scale = bn["weight"] / torch.sqrt(bn["running_var"] + BN_EPS)
        folded = w.detach().to(torch.float64) * scale[:, None, None, None]
        out[f"{name}.conv.weight"] = folded.to(torch.float32).contiguous()
        out[f"{name}.conv.bias"] = (bn["bias"] - bn["running_mean"] * scale).to(torch.float32).contiguous()
    unexpected = sorted(k for k in sd if k not in used and not k.startswith("fc."))
    if unexpected:
        fail(f"{source} holds tensors an FID Inception does not: {unexpected[:5]}")
    for k, v in out.items():
        if not torch.isfinite(v).all():
            fail(f"{source}: {k} is not finite after folding the batch norm")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="pytorch-fid's pt_inception-2015-12-05-*.pth")
    ap.add_argument("output", help="the .safetensors file to write")
    args = ap.parse_args()
    if not os.path.isfile(args.input):
        fail(f"{args.input} does not exist")
    try:
        import torch
        from safetensors.torch import save_file
    except ImportError as e:
        fail(f"{e}; install Debian's python3-torch and `pip install --no-deps safetensors`")
    try:
        sd = torch.load(args.input, map_location="cpu")
    except Exception as e:  # a truncated or foreign file
        fail(f"cannot read {args.input} as a PyTorch state dict: {e}")
    if not isinstance(sd, dict):
        fail(f"{args.input} does not contain a state dict")
    out = fold(sd, args.input)
    tmp = args.output + ".tmp"
    save_file(out, tmp, metadata={"format": "s2dm-fid-inception", "source": os.path.basename(args.input)})
    os.replace(tmp, args.output)  # never a half-written file under the final name
    print(f"wrote {args.output}: {len(out) // 2} convolutions, "
          f"{sum(t.numel() for t in out.values())} parameters")


if __name__ == "__main__":
    main()
