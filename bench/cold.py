#!/usr/bin/env python3
"""Cold figures of the commands a pre-commit hook or an editor runs, against
the targets of issue 14: `check` with nothing changed under 0.15 s,
`validate` with warm caches under 0.15 s, a full `generate` of every OS
under 0.4 s.

    python bench/cold.py [RUNS] [--as-is]

Each run is a new process (interpreter start included), interleaved with
`python -c pass` in the same rounds; figures are min and median over RUNS
(default 10) and their ratio to that baseline.  The caches live in a private
directory (XENDRVGEN_CACHE_DIR), filled by one untimed run first, so the
figures do not depend on, or disturb, the user's cache; "render cache cold"
empties only the render cache before each run (the Jinja bytecode and
header-facts caches stay warm, as .pyc files do), "verdict cache cold" only
the remembered validation verdicts (as after an edit of the spec: the
header facts are reused, the comparison runs), "no caches" turns every
cache off.  Modules load from .pyc files (--as-is keeps PYTHONDONTWRITEBYTECODE).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from _timing import cold, report, report_baseline, time_command, use_bytecode, xendrvgen

args = [a for a in sys.argv[1:] if not a.startswith("--")]
runs = max(10, int(args[0])) if args else 10
use_bytecode("--as-is" in sys.argv)

work = tempfile.mkdtemp(prefix="xendrvgen-bench-")
cache, out = os.path.join(work, "cache"), os.path.join(work, "out")
os.environ["XENDRVGEN_CACHE_DIR"] = cache
os.environ.pop("XENDRVGEN_NO_CACHE", None)
no_cache = dict(os.environ, XENDRVGEN_NO_CACHE="1")
x = xendrvgen()


def empty_out():
    shutil.rmtree(out, ignore_errors=True)


def empty_verdict_cache():
    shutil.rmtree(os.path.join(cache, "verdicts"), ignore_errors=True)


def empty_render_cache():
    empty_out()
    shutil.rmtree(os.path.join(cache, "rendered"), ignore_errors=True)


try:
    time_command(x + ["check"], 1)                      # fill the caches
    cases = {
        "check (nothing changed)": (x + ["check"], None, None),
        "check --no-validate (nothing changed)": (x + ["check", "--no-validate"], None, None),
        "validate (warm caches)": (x + ["validate"], None, None),
        "  same, verdict cache cold": (x + ["validate"], None, empty_verdict_cache),
        "generate, all OSes, empty dir": (x + ["generate", "--out", out], None, empty_out),
        "  same, render cache cold": (x + ["generate", "--out", out], None, empty_render_cache),
        "  same, no caches": (x + ["generate", "--out", out], no_cache, empty_out),
    }
    times, base = cold(cases, runs)
finally:
    shutil.rmtree(work, ignore_errors=True)
report_baseline(base)
for label, t in times.items():
    report(label, t, base)
