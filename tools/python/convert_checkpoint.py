#!/usr/bin/python3
"""Convert DDIM/DDPM PyTorch checkpoints to s2dm safetensors and back.

  convert_checkpoint.py to-s2dm  IN.ckpt|.pth OUT.safetensors --preset cifar10 [--ema]
  convert_checkpoint.py to-torch IN.safetensors OUT.pth [--weights ema|model]

to-s2dm reads a plain state dict (the converted public DDPM checkpoints) or the DDIM training
format [model_state, optimizer_state, epoch, step(, ema_state)] (--ema takes the EMA state),
strips DataParallel's "module." prefix, checks every name and shape against the reference UNet of
the preset, and writes float32 tensors under the same names plus the model config in the metadata,
so `s2dm-sample OUT.safetensors` needs no further flags.
to-torch writes a state dict that `UNet(cfg).load_state_dict(torch.load(OUT))` accepts, from an
s2dm checkpoint (EMA weights by default) or a converted file.
Needs Debian's python3-torch and `pip install --no-deps safetensors`.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    print(f"convert_checkpoint: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load_state_dict(path, ema):
    import torch

    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, (list, tuple)):
        if ema:
            if len(obj) < 5:
                fail(f"{path} holds no EMA state (a DDIM checkpoint list of {len(obj)} entries)")
            obj = obj[4]
        else:
            obj = obj[0]
    elif ema:
        fail(f"--ema needs a DDIM training checkpoint list; {path} is a plain state dict")
    if not isinstance(obj, dict):
        fail(f"{path} does not contain a state dict")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}


def to_s2dm(args):
    import torch
    from safetensors.torch import save_file
    from s2dm_reference import PRESETS, UNet

    if args.preset not in PRESETS:
        fail(f"unknown preset '{args.preset}'; choose one of {', '.join(PRESETS)}")
    cfg = PRESETS[args.preset]
    sd = load_state_dict(args.input, args.ema)
    ref = UNet(cfg).state_dict()
    missing = sorted(set(ref) - set(sd))
    unexpected = sorted(set(sd) - set(ref))
    if missing or unexpected:
        fail(f"{args.input} does not match the {args.preset} UNet: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for k, v in ref.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            fail(f"{k}: shape {tuple(sd[k].shape)} in {args.input}, the {args.preset} UNet has {tuple(v.shape)}")
    tensors = {k: sd[k].detach().to(torch.float32).contiguous() for k in ref}
    model_cfg = dict(cfg)
    model_cfg["ch_mult"], model_cfg["attn_resolutions"] = list(cfg["ch_mult"]), list(cfg["attn_resolutions"])
    save_file(tensors, args.output, metadata={"config": json.dumps({"model": model_cfg}), "source": os.path.basename(args.input)})
    print(f"wrote {args.output}: {len(tensors)} tensors, {sum(t.numel() for t in tensors.values())} parameters")


def to_torch(args):
    import torch
    from safetensors.torch import load_file

    sd = load_file(args.input)
    prefix = args.weights + "."
    if any(k.startswith(("model.", "ema.")) for k in sd):
        sd = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
        if not sd:
            fail(f"{args.input} has no '{args.weights}' weights")
    torch.save(sd, args.output)
    print(f"wrote {args.output}: {len(sd)} tensors")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-s2dm")
    a.add_argument("input")
    a.add_argument("output")
    a.add_argument("--preset", required=True)
    a.add_argument("--ema", action="store_true")
    b = sub.add_parser("to-torch")
    b.add_argument("input")
    b.add_argument("output")
    b.add_argument("--weights", choices=["ema", "model"], default="ema")
    args = ap.parse_args()
    if not os.path.isfile(args.input):
        fail(f"{args.input} does not exist")
    try:
        import torch  # noqa: F401
        import safetensors  # noqa: F401
    except ImportError as e:
        fail(f"{e}; install Debian's python3-torch and `pip install --no-deps safetensors`")
    (to_s2dm if args.cmd == "to-s2dm" else to_torch)(args)


if __name__ == "__main__":
    main()
