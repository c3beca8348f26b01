#!/usr/bin/python3
"""Regenerate every golden file: runs each tests/golden/gen_*.py with this interpreter.

    /usr/bin/python3 tests/golden/make_golden.py

The generators run in sorted order, each as its own process (they write next to themselves, so
the working directory does not matter). The first one that fails stops the run with its name
and exit status, and this script exits non-zero; the files it may have half written are then
best restored with git before trying again.
"""
import glob
import os
import subprocess
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    scripts = sorted(glob.glob(os.path.join(here, "gen_*.py")))
    if not scripts:
        print(f"make_golden: no gen_*.py found in {here}", file=sys.stderr)
        return 1
    done = []
    for path in scripts:
        name = os.path.basename(path)
        print(f"make_golden: running {name}", flush=True)
        rc = subprocess.run([sys.executable, path]).returncode
        if rc != 0:
            print(f"make_golden: {name} failed with exit status {rc}; stopped after "
                  f"{len(done)} of {len(scripts)} generators"
                  f"{' (' + ', '.join(done) + ' ran)' if done else ''}", file=sys.stderr)
            return 1
        done.append(name)
    print(f"make_golden: all {len(done)} generators ran: {', '.join(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
