#!/usr/bin/env python3
"""Wall time of a cold `xendrvgen generate` of every OS and of `xendrvgen check`
(process start included), min and median over several runs.

"Cold" means a new process each run, and `generate` writes into a new empty
directory each time; the Jinja bytecode cache in ~/.cache/xendrvgen stays
warm like Python's .pyc files (XENDRVGEN_NO_CACHE=1 times it without).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import subprocess
import time

from _timing import ROOT, report, time_command, xendrvgen

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7


def generate_times(env=None) -> list[float]:
    times = []
    for _ in range(runs):
        out = tempfile.mkdtemp(prefix="xendrvgen-bench-")
        shutil.rmtree(out)
        t0 = time.perf_counter()
        r = subprocess.run(xendrvgen() + ["generate", "--out", out], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(out, ignore_errors=True)
        if r.returncode:
            sys.exit(f"generate failed:\n{r.stderr}")
    return times


report("xendrvgen generate (all OSes, empty dir)", generate_times())
report("  same, without the template cache", generate_times(dict(os.environ, XENDRVGEN_NO_CACHE="1")))
report("xendrvgen generate (nothing changed)", time_command(xendrvgen() + ["generate"], runs))
report("xendrvgen check --no-validate", time_command(xendrvgen() + ["check", "--no-validate"], runs))
report("xendrvgen check (with upstream headers)", time_command(xendrvgen() + ["check"], runs))
