#!/usr/bin/env python3
"""Wall time of `xendrvgen compile --os linux`: cold, and again with nothing changed.

Cold means an empty work directory (kbuild builds both modules from scratch);
unchanged means the same command again, which the input-hash cache answers
without running make.  Process start included.  Usage: bench/compile.py [RUNS]
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import ROOT, report, time_command, xendrvgen

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
work = Path(tempfile.mkdtemp(prefix="xendrvgen-bench-compile-"))
argv = xendrvgen() + ["compile", "--os", "linux", "--work", str(work)]
try:
    cold = []
    for _ in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        t0 = time.perf_counter()
        r = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cold.append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit(f"{' '.join(argv)} exited {r.returncode}:\n{r.stderr}")
    report("compile --os linux, cold", cold)
    report("compile --os linux, unchanged", time_command(argv, runs))
finally:
    shutil.rmtree(work, ignore_errors=True)
