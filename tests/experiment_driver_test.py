#!/usr/bin/env python3
"""tools/python/s2dm_experiment.py on a tiny grid (2 methods x 2 seeds, a tiny UNet, 1 sampler x
2 step counts, 50 samples, fmnist features): the whole run, its cells, results.json, results.md
and plots; a rerun that does nothing; one deleted cell recomputed alone and equal; a driver killed
with SIGKILL inside a training cell, resumed to the same results; a failing binary named.
Usage: experiment_driver_test.py BUILD_DIR   (exit 77: numpy or matplotlib missing)
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import numpy  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as e:
    print("skipped: %s" % e)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(os.path.dirname(HERE), "tools", "python", "s2dm_experiment.py")
BIN = os.path.join(os.path.abspath(sys.argv[1]), "tools")
failures = []


def check(what, ok):
    print("%s: %s" % ("ok" if ok else "FAIL", what), flush=True)
    if not ok:
        failures.append(what)


def driver(spec, out, *extra):
    t0 = time.time()
    p = subprocess.run([sys.executable, DRIVER, spec, "--out", out, "--bin", BIN] + list(extra),
                       capture_output=True, text=True)
    return p, time.time() - t0


def load(path):
    with open(path) as f:
        return json.load(f)


def fds(res):
    return {(c["method"], c["seed"], c["column"]): c["fd"] for c in res["eval"]}


work = tempfile.mkdtemp(prefix="s2dm-exp-")
try:
    with open(os.path.join(work, "tiny.json"), "w") as f:
        json.dump({"model": {"ch": 8, "ch_mult": [1, 2], "num_res_blocks": 1, "attn_resolutions": [16],
                             "dropout": 0.1, "in_channels": 1, "out_channels": 1, "resolution": 32,
                             "groups": 4}, "preset": "tiny"}, f)
    steps = 30
    spec = {"name": "tiny grid",
            "methods": [{"name": "baseline", "tau": 1.0, "skip": 9},
                        {"name": "s2dm", "tau": 0.99, "skip": 9}],
            "seeds": [0, 1],
            "train": {"model_config": "tiny.json", "steps": steps, "batch": 4, "lr": 0.001,
                      "ema_decay": 0.9, "data": "fmnist", "split": "train", "device": "cpu",
                      "ckpt_every": 5, "log_every": 1},
            "samplers": [{"name": "ddim", "sampler": "ddim", "spacing": "uniform"}],
            "steps": [2, 4],
            "samples": 50,
            "sample": {"seed": 0, "batch": 50},
            "fid": {"features": "fmnist", "reference": "fmnist:test", "limit": 1000,
                    "kid_subset_size": 50, "kid_subsets": 10}}
    spec_path = os.path.join(work, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    out = os.path.join(work, "exp")

    # --- the whole grid ----------------------------------------------------------------------
    p, dt = driver(spec_path, out)
    check("the grid completes (rc %d, %.0f s)%s" % (p.returncode, dt, "" if p.returncode == 0 else "\n" + p.stderr[-2000:]),
          p.returncode == 0)
    if p.returncode != 0:
        sys.exit(1)
    check("progress lines with an ETA", "[12/12] all cells done" in p.stdout and "ETA " in p.stdout)
    runs = ["%s-s%d" % (m, s) for m in ("baseline", "s2dm") for s in (0, 1)]
    for r in runs:
        d = os.path.join(out, "cells", "train", r)
        check("train cell %s: checkpoint, metrics, done marker" % r,
              all(os.path.exists(os.path.join(d, x)) for x in ("checkpoint.safetensors", "metrics.jsonl", "done.json")))
    ev = ["%s-ddim-%d.json" % (r, n) for r in runs for n in (2, 4)]
    check("all 8 eval cells exist", all(os.path.exists(os.path.join(out, "cells", "eval", e)) for e in ev))
    res = load(os.path.join(out, "results.json"))
    check("results.json: commit is a git hash", isinstance(res["commit"], str) and len(res["commit"]) == 40)
    check("results.json: the spec", res["spec"]["seeds"] == [0, 1] and res["baseline"] == "baseline")
    check("results.json: 4 runs, 8 eval cells", len(res["train"]) == 4 and len(res["eval"]) == 8)
    taus = {(r["method"], r["seed"]): r["config"]["loss"]["tau"] for r in res["train"]}
    check("runs differ only in tau: baseline 1, s2dm 0.99",
          taus == {("baseline", 0): 1.0, ("baseline", 1): 1.0, ("s2dm", 0): 0.99, ("s2dm", 1): 0.99})
    cfg = [r["config"] for r in res["train"]]
    same = all({k: v for k, v in c.items() if k not in ("loss", "seed", "out_dir")}
               == {k: v for k, v in cfg[0].items() if k not in ("loss", "seed", "out_dir")} for c in cfg)
    check("every run has the same settings besides the loss and seed", same)
    check("each run logged steps 1..%d" % steps, all([m["step"] for m in r["metrics"]] == list(range(1, steps + 1)) for r in res["train"]))
    f0 = fds(res)
    check("every FD finite and positive", all(math.isfinite(v) and v > 0 for v in f0.values()))
    check("an untrained-scale model is far from the data: FD > 50", all(v > 50 for v in f0.values()))
    check("NFE recorded (%s)" % sorted({c["nfe"] for c in res["eval"]}), sorted({c["nfe"] for c in res["eval"]}) == [2, 4])
    check("KID recorded", all(c["kid"] and math.isfinite(c["kid"]["mean"]) for c in res["eval"]))
    check("methods give different FDs", f0[("baseline", 0, "ddim@4")] != f0[("s2dm", 0, "ddim@4")])
    check("seeds give different FDs", f0[("baseline", 0, "ddim@4")] != f0[("baseline", 1, "ddim@4")])
    check("step counts give different FDs", f0[("baseline", 0, "ddim@2")] != f0[("baseline", 0, "ddim@4")])
    md = open(os.path.join(out, "results.md")).read()
    rows = {}
    for l in md.splitlines():  # the FD table comes first, the KID table after it
        if l.startswith("| baseline") or l.startswith("| s2dm"):
            rows.setdefault(l.split("|")[1].strip(), [c.strip() for c in l.split("|")[2:-1]])
    check("results.md has a baseline and an s2dm row", set(rows) >= {"baseline", "s2dm"})
    check("results.md header: ddim 2 | ddim 4", "| method | ddim 2 | ddim 4 |" in md)
    b = [f0[("baseline", s, "ddim@2")] for s in (0, 1)]
    mu, sd = sum(b) / 2, abs(b[0] - b[1]) / math.sqrt(2)
    check("baseline ddim 2 cell = mean ± std of the seeds (%s)" % rows["baseline"][0],
          rows["baseline"][0] == "%.2f ± %.2f" % (mu, sd))
    s = [f0[("s2dm", x, "ddim@2")] for x in (0, 1)]
    rel = [100 * (s[i] - b[i]) / b[i] for i in (0, 1)]
    rmu, rse = sum(rel) / 2, abs(rel[0] - rel[1]) / math.sqrt(2) / math.sqrt(2)
    check("s2dm ddim 2 cell holds the paired relative change (%s)" % rows["s2dm"][0],
          rows["s2dm"][0].endswith("(%+.2f ± %.2f %%)" % (rmu, rse)))
    for png in ("fd_vs_steps.png", "loss.png"):
        path = os.path.join(out, png)
        ok = os.path.exists(path) and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 5000
        check("%s is a PNG" % png, ok)

    # --- rerun: nothing to do ----------------------------------------------------------------
    mtimes = {e: os.stat(os.path.join(out, "cells", "eval", e)).st_mtime_ns for e in ev}
    p, dt = driver(spec_path, out)
    check("a rerun does no work (rc %d, %.1f s)" % (p.returncode, dt),
          p.returncode == 0 and "] training" not in p.stdout and "] evaluating" not in p.stdout and dt < 30)
    check("... and touches no cell", all(os.stat(os.path.join(out, "cells", "eval", e)).st_mtime_ns == mtimes[e] for e in ev))

    # --- one deleted eval cell: recomputed alone, same value ------------------------------------
    gone = "s2dm-s1-ddim-4.json"
    os.remove(os.path.join(out, "cells", "eval", gone))
    p, dt = driver(spec_path, out)
    lines = [l for l in p.stdout.splitlines() if "] evaluating" in l or "] training" in l]
    check("only the deleted cell is recomputed (%s)" % lines, p.returncode == 0 and len(lines) == 1 and "s2dm-s1-ddim-4" in lines[0])
    f1 = fds(load(os.path.join(out, "results.json")))
    check("... to the same FD (%.6f, %.6f)" % (f0[("s2dm", 1, "ddim@4")], f1[("s2dm", 1, "ddim@4")]), f1 == f0)

    # --- --report-only ----------------------------------------------------------------------
    md = open(os.path.join(out, "results.md")).read()
    os.remove(os.path.join(out, "results.md"))
    os.remove(os.path.join(out, "loss.png"))
    p = subprocess.run([sys.executable, DRIVER, "--report-only", "--out", out], capture_output=True, text=True)
    check("--report-only rewrites results.md and the plots",
          p.returncode == 0 and open(os.path.join(out, "results.md")).read() == md and os.path.exists(os.path.join(out, "loss.png")))

    # --- SIGKILL inside a training cell, then resume ---------------------------------------------
    out2 = os.path.join(work, "killed")
    shutil.copytree(out, out2)
    shutil.rmtree(os.path.join(out2, "cells", "train", "s2dm-s1"))
    for n in (2, 4):
        os.remove(os.path.join(out2, "cells", "eval", "s2dm-s1-ddim-%d.json" % n))
    os.remove(os.path.join(out2, "results.json"))
    metrics = os.path.join(out2, "cells", "train", "s2dm-s1", "metrics.jsonl")
    log = open(os.path.join(work, "killed.log"), "w")
    d = subprocess.Popen([sys.executable, DRIVER, spec_path, "--out", out2, "--bin", BIN], stdout=log, stderr=log)
    step, t0 = 0, time.time()
    while time.time() - t0 < 120 and d.poll() is None:
        try:
            step = max([json.loads(l)["step"] for l in open(metrics) if l.strip()] or [0])
        except (OSError, ValueError):
            pass
        if step >= 7:  # past the checkpoint at step 5
            break
        time.sleep(0.02)
    d.send_signal(signal.SIGKILL)
    d.wait()
    log.close()
    check("driver killed inside the training cell (at step %d of %d)" % (step, steps),
          7 <= step < steps and not os.path.exists(os.path.join(out2, "cells", "train", "s2dm-s1", "done.json")))
    time.sleep(0.5)
    p, dt = driver(spec_path, out2)
    check("the rerun resumes the run from its checkpoint (rc %d)%s" % (p.returncode, "" if p.returncode == 0 else "\n" + p.stderr[-2000:]),
          p.returncode == 0 and "s2dm-s1 (resuming from its checkpoint)" in p.stdout)
    dj = load(os.path.join(out2, "cells", "train", "s2dm-s1", "done.json"))
    check("... its done.json counts the steps after the checkpoint (%s)" % dj.get("steps_run"),
          dj["resumed"] and 0 < dj["steps_run"] < steps and dj["steps_run"] % 5 == 0)
    lines = [l for l in p.stdout.splitlines() if "] evaluating" in l or "] training" in l]
    check("... and redoes that run's cells only (%d lines)" % len(lines), len(lines) == 3)
    r2 = load(os.path.join(out2, "results.json"))
    f2 = fds(r2)
    check("the killed and resumed experiment has the same FDs", f2 == f0)
    run = [r for r in r2["train"] if r["method"] == "s2dm" and r["seed"] == 1][0]
    orig = [r for r in res["train"] if r["method"] == "s2dm" and r["seed"] == 1][0]
    check("... and the same loss curve, each step logged once", run["metrics"] == orig["metrics"])

    # --- a failing binary is named --------------------------------------------------------------
    out3 = os.path.join(work, "failing")
    shutil.copytree(out, out3)
    bad = dict(spec, fid=dict(spec["fid"], reference=os.path.join(work, "missing.npz")))
    bad_path = os.path.join(work, "bad.json")
    with open(bad_path, "w") as f:
        json.dump(bad, f)
    os.remove(os.path.join(out3, "spec.json"))  # the spec changed on purpose
    os.remove(os.path.join(out3, "cells", "eval", gone))
    p, dt = driver(bad_path, out3)
    check("a failing s2dm-fid: non-zero exit naming the cell, the binary and its stderr\n%s" % p.stderr[-600:],
          p.returncode != 0 and "eval/s2dm-s1-ddim-4" in p.stderr and "s2dm-fid exited" in p.stderr and "missing.npz" in p.stderr)
    p, dt = driver(spec_path, out3)
    check("a changed spec on the same --out is refused", p.returncode != 0 and "different spec" in p.stderr)
finally:
    shutil.rmtree(work, ignore_errors=True)

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
