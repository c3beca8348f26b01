#!/usr/bin/env python3
"""Compare S²-DM against the baseline: train, sample, measure FD/KID, tabulate and plot.

Usage:
    s2dm_experiment.py SPEC.json --out DIR [--bin DIR] [--dry-run]
    s2dm_experiment.py --report-only --out DIR

The driver runs s2dm-train, s2dm-sample and s2dm-fid (from --bin, default build/tools of this
repository) over a grid: every method x seed is one training run, every trained model x sampler
x step count is one evaluation (sample, then FD/KID against a reference). Each unit of work is a
cell under DIR/cells/, written atomically; a rerun skips finished cells and resumes an
interrupted training run from its checkpoint, so a killed experiment loses at most the cell in
flight (and a training cell only the steps since its last checkpoint).

SPEC.json fields (docs/experiments.md has the same list and two worked specs):
    name         free text, copied into results.json [optional]
    methods      list of {"name", "tau", "skip", "same_noise" (bool, default false),
                 "sum_loss" (bool, default false), "baseline" (bool)}; the baseline is the method
                 marked "baseline": true, else the first one with tau = 1
    seeds        list of integers; each is s2dm-train's --seed for every method (same data order
                 and noise stream) and selects which runs are averaged in the table
    train        common training settings, identical for every method:
                 "preset", "model_config" (JSON file passed as --config, path relative to the
                 spec), "steps", "batch", "lr", "ema_decay", "grad_clip", "data", "data_path",
                 "split", "flip", "device", "ckpt_every", "log_every" [s2dm-train's defaults]
    samplers     list of {"name", "sampler" (ddim|ddpm|pndm-s|pndm-f|deis), "spacing"
                 (uniform|quadratic), "order" (DEIS), "eta" (DDIM)}
    steps        list of sampler step counts, e.g. [10, 20, 50, 100]
    ceiling      optional extra column {"name", "sampler", "spacing", "steps"}, e.g. DDPM 1000
    samples      images per evaluation cell
    sample       {"seed" (the same for every method: same starting noises) [0], "batch" [100],
                 "device" [train.device], "weights" (ema|model) [ema]} [optional]
    fid          {"features" (fmnist|inception), "reference" (an s2dm-fid input such as
                 "fmnist:test" or a statistics .npz; KID needs images), "weights", "data_path",
                 "device", "batch", "limit" (s2dm-fid's --limit: the first N images of each
                 input, for quick checks) [0 = all], "kid" (bool) [true], "kid_subset_size" [1000],
                 "kid_subsets" [100]}
    keep_samples keep each cell's .npz under DIR/samples/ [false]

Outputs in DIR: cells/train/METHOD-sSEED/ (the run: checkpoint, metrics.jsonl, done.json),
cells/eval/METHOD-sSEED-SAMPLER-STEPS.json, results.json, results.md, fd_vs_steps.png,
loss.png. --report-only rewrites the last four from results.json alone.
"""
import argparse
import ctypes
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CellError(RuntimeError):
    pass


def write_atomic(path, text):
    """A reader (or a rerun after a kill) sees the old file or the whole new one, never a part."""
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _die_with_parent():
    # A SIGKILLed driver must not leave a trainer holding the run folder's lock: the rerun
    # would be refused. PR_SET_PDEATHSIG (1) makes the kernel kill the child with the parent.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def git_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def fmt_time(s):
    if s is None:
        return "?"
    s = int(round(s))
    return "%dh%02dm%02ds" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%dm%02ds" % (s // 60, s % 60)


# --- spec -------------------------------------------------------------------------------------

def load_spec(path):
    with open(path) as f:
        spec = json.load(f)
    need = ["methods", "seeds", "train", "samplers", "steps", "samples", "fid"]
    missing = [k for k in need if k not in spec]
    if missing:
        raise SystemExit("%s: missing field(s) %s" % (path, ", ".join(missing)))
    names = [m["name"] for m in spec["methods"]]
    if len(set(names)) != len(names):
        raise SystemExit("%s: method names must be unique" % path)
    if len({s["name"] for s in spec["samplers"]}) != len(spec["samplers"]):
        raise SystemExit("%s: sampler names must be unique" % path)
    for m in spec["methods"]:
        for k in ("name", "tau", "skip"):
            if k not in m:
                raise SystemExit("%s: method %r lacks %r" % (path, m.get("name"), k))
    mc = spec["train"].get("model_config")
    if mc and not os.path.isabs(mc):
        spec["train"]["model_config"] = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), mc))
    return spec


def baseline_name(spec):
    for m in spec["methods"]:
        if m.get("baseline"):
            return m["name"]
    for m in spec["methods"]:
        if float(m["tau"]) == 1.0:
            return m["name"]
    return spec["methods"][0]["name"]


def columns(spec):
    """(column name, sampler entry, steps) in table order; the ceiling last."""
    cols = []
    for s in spec["samplers"]:
        for n in spec["steps"]:
            cols.append(("%s@%d" % (s["name"], n), s, int(n)))
    c = spec.get("ceiling")
    if c:
        s = dict(c)
        s.setdefault("name", c["sampler"])
        cols.append(("%s@%d" % (s["name"], int(c["steps"])), s, int(c["steps"])))
    return cols


# --- commands ---------------------------------------------------------------------------------

def train_cmd(spec, bindir, method, seed, run_dir):
    t = spec["train"]
    ck = os.path.join(run_dir, "checkpoint.safetensors")
    exe = os.path.join(bindir, "s2dm-train")
    if os.path.exists(ck):
        # The checkpoint holds the config, optimizer, EMA and generator states: resuming is
        # bit-identical to a run never interrupted (docs/reliability.md).
        return [exe, "--resume", ck, "--steps", str(t["steps"]), "--out", run_dir]
    cmd = [exe]
    if t.get("model_config"):
        cmd += ["--config", t["model_config"]]
    if t.get("preset"):
        cmd += ["--preset", t["preset"]]
    opt = {"data": "--data", "data_path": "--data-path", "split": "--split", "batch": "--batch",
           "lr": "--lr", "ema_decay": "--ema-decay", "grad_clip": "--grad-clip",
           "device": "--device", "ckpt_every": "--ckpt-every", "log_every": "--log-every"}
    for k, flag in opt.items():
        if k in t:
            cmd += [flag, str(t[k])]
    if t.get("flip"):
        cmd += ["--flip"]
    cmd += ["--steps", str(t["steps"]), "--seed", str(seed), "--tau", repr(float(method["tau"])),
            "--skip", str(int(method["skip"])), "--out", run_dir,
            # no periodic sample grids: they cost time and play no part in the comparison
            "--sample-every", "0", "--sample-count", "1", "--sample-steps", "1"]
    if method.get("same_noise"):
        cmd += ["--same-noise"]
    if method.get("sum_loss"):
        cmd += ["--sum-loss"]
    return cmd


def sample_cmd(spec, bindir, ck, sampler, steps, npz):
    s = spec.get("sample", {})
    cmd = [os.path.join(bindir, "s2dm-sample"), ck, "--sampler", sampler["sampler"],
           "--steps", str(steps), "--count", str(spec["samples"]),
           "--batch", str(s.get("batch", 100)), "--seed", str(s.get("seed", 0)),
           "--device", str(s.get("device", spec["train"].get("device", "cpu"))),
           "--weights", s.get("weights", "ema"), "--npz", npz]
    if sampler.get("spacing"):
        cmd += ["--spacing", sampler["spacing"]]
    if sampler.get("order") is not None:
        cmd += ["--order", str(sampler["order"])]
    if sampler.get("eta") is not None:
        cmd += ["--eta", str(sampler["eta"])]
    return cmd


def fid_cmd(spec, bindir, npz, out_json):
    f = spec["fid"]
    cmd = [os.path.join(bindir, "s2dm-fid"), npz, f["reference"], "--features", f.get("features", "inception"),
           "--json", out_json, "--quiet"]
    for k, flag in (("weights", "--weights"), ("data_path", "--data-path"), ("device", "--device"),
                    ("batch", "--batch"), ("limit", "--limit"), ("kid_subsets", "--kid-subsets")):
        if f.get(k) is not None:
            cmd += [flag, str(f[k])]
    if not f.get("kid", True):
        cmd += ["--no-kid"]
    else:
        cmd += ["--kid-subset-size", str(min(int(f.get("kid_subset_size", 1000)), int(spec["samples"])))]
    return cmd


def run_command(cell, cmd, log_path):
    """Runs one binary, its output into log_path; a failure names the cell and the stderr tail."""
    with open(log_path, "ab") as log:
        log.write(("$ " + " ".join(cmd) + "\n").encode())
        log.flush()
        p = subprocess.run(cmd, stdout=log, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        log.write(p.stderr)
    if p.returncode != 0:
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-15:]
        raise CellError("cell %s failed: %s exited with status %d\n  command: %s\n  stderr (last lines):\n    %s"
                        % (cell, os.path.basename(cmd[0]), p.returncode, " ".join(cmd), "\n    ".join(tail)))


# --- the grid ---------------------------------------------------------------------------------

def cells_of(spec):
    # Seed-major: a stopped experiment holds whole seeds, every method paired with its baseline.
    trains = [(m, int(seed)) for seed in spec["seeds"] for m in spec["methods"]]
    evals = [(m, int(seed), col, s, n) for m, seed in trains for col, s, n in columns(spec)]
    return trains, evals


def train_dir(out, m, seed):
    return os.path.join(out, "cells", "train", "%s-s%d" % (m["name"], seed))


def eval_path(out, m, seed, sampler, steps):
    return os.path.join(out, "cells", "eval", "%s-s%d-%s-%d.json" % (m["name"], seed, sampler["name"], steps))


class Progress:
    """Counts done cells and estimates the rest from measured times of cells of the same kind."""

    def __init__(self, trains, evals, out, spec):
        self.total = len(trains) + len(evals)
        self.spec = spec
        self.train_rates, self.eval_rates = [], []  # seconds per training step; per sampler step
        self.left_train = [t for t in trains if not os.path.exists(os.path.join(train_dir(out, *t), "done.json"))]
        self.left_eval_steps = sum(e[4] for e in evals if not os.path.exists(eval_path(out, e[0], e[1], e[3], e[4])))
        self.done = self.total - len(self.left_train) - sum(
            1 for e in evals if not os.path.exists(eval_path(out, e[0], e[1], e[3], e[4])))
        # Cells finished by earlier invocations count too, so a resumed experiment has an ETA at once.
        for t in trains:
            done = os.path.join(train_dir(out, *t), "done.json")
            if os.path.exists(done):
                with open(done) as f:
                    d = json.load(f)
                if d.get("steps_run", 0) > 0:
                    self.train_rates.append(d["seconds"] / d["steps_run"])
        for e in evals:
            path = eval_path(out, e[0], e[1], e[3], e[4])
            if os.path.exists(path):
                with open(path) as f:
                    c = json.load(f)
                self.eval_rates.append((c["sample_seconds"] + c["fid_seconds"]) / c["steps"])

    def eta(self):
        parts = []
        if self.left_train:
            if not self.train_rates:
                return None
            steps = int(self.spec["train"]["steps"])
            parts.append(len(self.left_train) * steps * sum(self.train_rates) / len(self.train_rates))
        if self.left_eval_steps:
            if not self.eval_rates:
                return None if self.left_eval_steps else 0
            parts.append(self.left_eval_steps * sum(self.eval_rates) / len(self.eval_rates))
        return sum(parts)

    def report(self, what):
        print("[%d/%d] %s; ETA %s" % (self.done, self.total, what, fmt_time(self.eta())), flush=True)


def run_train(spec, bindir, out, m, seed, prog, dry):
    d = train_dir(out, m, seed)
    name = os.path.basename(d)
    done = os.path.join(d, "done.json")
    if os.path.exists(done):
        return
    cmd = train_cmd(spec, bindir, m, seed, d)
    if dry:
        print("train %s: %s" % (name, " ".join(cmd)))
        return
    resumed = cmd[1] == "--resume"
    if not resumed and os.path.isdir(d):
        shutil.rmtree(d)  # killed before its first checkpoint: nothing in it is worth keeping
    os.makedirs(d, exist_ok=True)
    prog.report("training %s%s" % (name, " (resuming from its checkpoint)" if resumed else ""))
    t0 = time.time()
    run_command("train/" + name, cmd, os.path.join(d, "driver.log"))
    dt = time.time() - t0
    first = 0  # a resumed run's time covers the steps after its checkpoint only
    if resumed:
        with open(os.path.join(d, "driver.log"), errors="replace") as f:
            for line in f:
                mt = re.match(r"resumed from .* at step (\d+)", line)
                if mt:
                    first = int(mt.group(1))
    steps_run = int(spec["train"]["steps"]) - first
    write_json(done, {"seconds": dt, "resumed": resumed, "steps_run": steps_run, "command": cmd})
    prog.left_train.remove((m, seed))
    if steps_run > 0:
        prog.train_rates.append(dt / steps_run)
    prog.done += 1


def run_eval(spec, bindir, out, m, seed, col, sampler, steps, prog, dry):
    path = eval_path(out, m, seed, sampler, steps)
    name = os.path.basename(path)[:-5]
    if os.path.exists(path):
        return
    ck = os.path.join(train_dir(out, m, seed), "checkpoint.safetensors")
    work = os.path.join(out, "work")
    npz = os.path.join(work, name + ".npz")
    fj = os.path.join(work, name + ".fid.json")
    scmd = sample_cmd(spec, bindir, ck, sampler, steps, npz)
    fcmd = fid_cmd(spec, bindir, npz, fj)
    if dry:
        print("eval %s:\n  %s\n  %s" % (name, " ".join(scmd), " ".join(fcmd)))
        return
    os.makedirs(work, exist_ok=True)
    prog.report("evaluating %s" % name)
    log = os.path.join(work, name + ".log")
    for p in (npz, fj, log):  # leftovers of an attempt killed in flight must not be read as this one's
        if os.path.exists(p):
            os.remove(p)
    t0 = time.time()
    run_command("eval/" + name, scmd, log)
    t1 = time.time()
    run_command("eval/" + name, fcmd, log)
    t2 = time.time()
    with open(fj) as f:
        r = json.load(f)
    # Network evaluations per image, as s2dm-sample reports them: PNDM's warm-up makes them differ
    # from the step count (pndm-s S + 1, pndm-f S + 9).
    nfe = None
    with open(log, errors="replace") as f:
        for line in f:
            mt = re.search(r"\((\S+), (?:\d+ steps, )?(\d+) model evaluations per image", line)
            if mt:
                nfe = int(mt.group(2))
    cell = {"method": m["name"], "seed": seed, "column": col, "sampler": sampler, "steps": steps,
            "samples": spec["samples"], "nfe": nfe, "fd": r["fid"], "kid": r.get("kid"),
            "sample_seconds": t1 - t0, "fid_seconds": t2 - t1, "commands": [scmd, fcmd]}
    write_json(path, cell)
    if spec.get("keep_samples"):
        os.makedirs(os.path.join(out, "samples"), exist_ok=True)
        os.replace(npz, os.path.join(out, "samples", name + ".npz"))
    for p in (npz, fj, log):
        if os.path.exists(p):
            os.remove(p)
    prog.left_eval_steps -= steps
    prog.eval_rates.append((t2 - t0) / steps)
    prog.done += 1


def run_grid(spec, spec_path, bindir, out, dry):
    for exe in ("s2dm-train", "s2dm-sample", "s2dm-fid"):
        if not os.access(os.path.join(bindir, exe), os.X_OK):
            raise SystemExit("no executable %s in %s (build it, or pass --bin)" % (exe, bindir))
    if not dry:
        for sub in ("train", "eval"):
            os.makedirs(os.path.join(out, "cells", sub), exist_ok=True)
    trains, evals = cells_of(spec)
    prog = Progress(trains, evals, out, spec)
    print("%d cells (%d training runs, %d evaluations), %d done" % (prog.total, len(trains), len(evals), prog.done), flush=True)
    t0 = time.time()
    # Each model's evaluations right after its training: they need only its checkpoint, and a
    # long experiment then yields complete rows (and an evaluation ETA) early.
    for m, seed in trains:
        run_train(spec, bindir, out, m, seed, prog, dry)
        for em, eseed, col, s, n in evals:
            if em is m and eseed == seed:
                run_eval(spec, bindir, out, m, seed, col, s, n, prog, dry)
    if dry:
        return
    print("[%d/%d] all cells done (%s this run)" % (prog.total, prog.total, fmt_time(time.time() - t0)), flush=True)
    collect(spec, out)


# --- results ----------------------------------------------------------------------------------

def read_metrics(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        pass
    return rows


def collect(spec, out):
    trains, evals = cells_of(spec)
    runs = []
    for m, seed in trains:
        d = train_dir(out, m, seed)
        with open(os.path.join(d, "done.json")) as f:
            done = json.load(f)
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        metrics = read_metrics(os.path.join(d, "metrics.jsonl"))
        runs.append({"method": m["name"], "seed": seed, "dir": os.path.relpath(d, out), "config": config,
                     "seconds": done["seconds"], "resumed": done.get("resumed", False),
                     "metrics": [{k: r.get(k) for k in ("step", "loss", "l0", "lskip")} for r in metrics]})
    cells = []
    for m, seed, col, s, n in evals:
        with open(eval_path(out, m, seed, s, n)) as f:
            cells.append(json.load(f))
    res = {"commit": git_commit(), "spec": spec, "baseline": baseline_name(spec),
           "columns": [c[0] for c in columns(spec)], "train": runs, "eval": cells}
    write_json(os.path.join(out, "results.json"), res)
    report(out)


def mean_std(xs):
    n = len(xs)
    mu = sum(xs) / n
    sd = math.sqrt(sum((x - mu) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    return mu, sd


def table(res):
    """{(method, column): {seed: fd}}"""
    t = {}
    for c in res["eval"]:
        t.setdefault((c["method"], c["column"]), {})[c["seed"]] = c["fd"]
    return t


def relative_change(fds, base):
    """Per-seed relative change against the baseline with the same seed (paired: both runs share
    data order, noise stream and starting noises), then mean ± standard error over seeds."""
    seeds = sorted(set(fds) & set(base))
    r = [100.0 * (fds[s] - base[s]) / base[s] for s in seeds]
    if not r:
        return None
    mu, sd = mean_std(r)
    return mu, sd / math.sqrt(len(r)), len(r)


def report(out):
    with open(os.path.join(out, "results.json")) as f:
        res = json.load(f)
    spec = res["spec"]
    t = table(res)
    base = res["baseline"]
    cols = res["columns"]
    methods = [m["name"] for m in spec["methods"]]
    feat = spec["fid"].get("features", "inception")
    lines = ["# %s" % spec.get("name", "S²-DM against the baseline"), "",
             "FD (%s features) of %d samples against `%s`, mean ± std over seeds %s; "
             "lower is better. Commit `%s`." % (feat, spec["samples"], spec["fid"]["reference"],
                                                 ", ".join(str(s) for s in spec["seeds"]), res["commit"]),
             "Non-baseline rows add the change against `%s` in %%: the per-seed relative change "
             "(each seed against the baseline run with the same seed), mean ± standard error "
             "(std / √n) over the n seeds." % base, ""]
    lines.append("| method | " + " | ".join(c.replace("@", " ") for c in cols) + " |")
    lines.append("|---|" + "---|" * len(cols))
    for m in methods:
        row = []
        for c in cols:
            fds = t.get((m, c), {})
            if not fds:
                row.append("—")
                continue
            mu, sd = mean_std(list(fds.values()))
            txt = "%.2f ± %.2f" % (mu, sd)
            if m != base:
                rc = relative_change(fds, t.get((base, c), {}))
                if rc:
                    txt += " (%+.2f ± %.2f %%)" % (rc[0], rc[1])
            row.append(txt)
        lines.append("| %s | %s |" % (m, " | ".join(row)))
    if any(c.get("kid") for c in res["eval"]):
        lines += ["", "KID as s2dm-fid reports it (docs/evaluation.md), mean ± std over seeds:", "",
                  "| method | " + " | ".join(c.replace("@", " ") for c in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        k = {}
        for c in res["eval"]:
            if c.get("kid"):
                k.setdefault((c["method"], c["column"]), []).append(c["kid"]["mean"])
        for m in methods:
            lines.append("| %s | %s |" % (m, " | ".join(
                "%.2f ± %.2f" % mean_std(k[(m, c)]) if (m, c) in k else "—" for c in cols)))
    tt = sum(r["seconds"] for r in res["train"])
    te = sum(c["sample_seconds"] + c["fid_seconds"] for c in res["eval"])
    lines += ["", "Time measured: training %s (%d runs), sampling and FD %s (%d cells)."
              % (fmt_time(tt), len(res["train"]), fmt_time(te), len(res["eval"])), ""]
    write_atomic(os.path.join(out, "results.md"), "\n".join(lines))
    plots(res, out)


def plots(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    spec = res["spec"]
    t = table(res)
    methods = [m["name"] for m in spec["methods"]]
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for si, s in enumerate(spec["samplers"]):
        for mi, m in enumerate(methods):
            xs, ys, es = [], [], []
            for n in spec["steps"]:
                fds = t.get((m, "%s@%d" % (s["name"], n)))
                if fds:
                    mu, sd = mean_std(list(fds.values()))
                    xs.append(n), ys.append(mu), es.append(sd)
            if xs:
                ax.errorbar(xs, ys, yerr=es, color="C%d" % si, linestyle=styles[mi % len(styles)],
                            marker=markers[mi % len(markers)], capsize=3, label="%s, %s" % (m, s["name"]))
    ax.set_xscale("log")
    ax.set_xticks(spec["steps"])
    ax.set_xticklabels([str(n) for n in spec["steps"]])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("sampler steps")
    ax.set_ylabel("FD (%s features)" % spec["fid"].get("features", "inception"))
    ax.set_title("FD against sampler steps (mean ± std over seeds)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "fd_vs_steps.png"), dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    seeds = list(spec["seeds"])
    for r in res["train"]:
        mi = methods.index(r["method"]) if r["method"] in methods else 0
        si = seeds.index(r["seed"]) if r["seed"] in seeds else 0
        for ax, key in zip(axes, ("l0", "lskip")):
            pts = [(p["step"], p[key]) for p in r["metrics"] if p.get(key) is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color="C%d" % mi,
                        linestyle=styles[si % len(styles)], label="%s seed %d" % (r["method"], r["seed"]))
    for ax, key in zip(axes, ("l0", "lskip")):
        ax.set_xlabel("training step")
        ax.set_ylabel(key)
        if key == "l0":  # l0 falls by orders of magnitude; lskip stays near 1
            ax.set_yscale("log")
        ax.set_title("training loss %s" % key)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loss.png"), dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec", nargs="?", help="experiment spec (JSON)")
    ap.add_argument("--out", required=True, help="experiment folder (cells, results)")
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "tools"), help="folder of s2dm-train, s2dm-sample, s2dm-fid")
    ap.add_argument("--dry-run", action="store_true", help="print the commands of the cells left, run nothing")
    ap.add_argument("--report-only", action="store_true", help="rewrite results.md and the plots from results.json")
    a = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--dry-run | head` ends quietly
    if a.report_only:
        if not os.path.exists(os.path.join(a.out, "results.json")):
            raise SystemExit("%s holds no results.json" % a.out)
        report(a.out)
        return 0
    if not a.spec:
        ap.error("SPEC.json is required (or --report-only)")
    spec = load_spec(a.spec)
    if not a.dry_run:
        os.makedirs(a.out, exist_ok=True)
    saved = os.path.join(a.out, "spec.json")
    if os.path.exists(saved):
        with open(saved) as f:
            old = json.load(f)
        if old != spec:
            # Cells of another spec would silently mix into this one's table.
            raise SystemExit("%s holds an experiment of a different spec (%s); use another --out" % (a.out, saved))
    elif not a.dry_run:
        write_json(saved, spec)
    try:
        run_grid(spec, a.spec, os.path.abspath(a.bin), a.out, a.dry_run)
    except CellError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
