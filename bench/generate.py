#!/usr/bin/env python3
"""Wall time of a cold `xendrvgen generate` of every OS and of `xendrvgen check`
(process start included), min and median over RUNS (default 10) with their
ratio to `python -c pass` timed in the same rounds (see _timing.cold).

"Cold" means a new process each run; `generate` into an empty directory
writes into a new one each time.  The caches (~/.cache/xendrvgen, or
XENDRVGEN_CACHE_DIR) stay warm like Python's .pyc files, except where a line
says otherwise: "render cache cold" renders every file (the Jinja bytecode
cache warm), "no caches" is XENDRVGEN_NO_CACHE=1.  bench/cold.py gives the
figures of issue 14's targets in a private cache directory.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from _timing import cold, report, report_baseline, time_command, use_bytecode, xendrvgen
from xendrvgen.base.paths import cache_dir

args = [a for a in sys.argv[1:] if not a.startswith("--")]
runs = max(10, int(args[0])) if args else 10
use_bytecode("--as-is" in sys.argv)
x = xendrvgen()
out = os.path.join(tempfile.mkdtemp(prefix="xendrvgen-bench-"), "out")


def empty_out():
    shutil.rmtree(out, ignore_errors=True)


def render_cache_cold():
    """The render cache without its entries, in a private copy of the cache."""
    empty_out()
    shutil.rmtree(private, ignore_errors=True)
    if os.path.isdir(user_cache):
        shutil.copytree(user_cache, private, ignore=shutil.ignore_patterns("rendered"))


user_cache = str(cache_dir())
private = os.path.join(os.path.dirname(out), "cache")
time_command(x + ["check"], 1)       # fill the caches
try:
    times, base = cold({
        "generate (all OSes, empty dir)": (x + ["generate", "--out", out], None, empty_out),
        "  same, render cache cold": (x + ["generate", "--out", out],
                                      dict(os.environ, XENDRVGEN_CACHE_DIR=private), render_cache_cold),
        "  same, no caches": (x + ["generate", "--out", out], dict(os.environ, XENDRVGEN_NO_CACHE="1"),
                              empty_out),
        "generate (nothing changed)": (x + ["generate"], None, None),
        "check --no-validate": (x + ["check", "--no-validate"], None, None),
        "check (with upstream headers)": (x + ["check"], None, None),
    }, runs)
finally:
    shutil.rmtree(os.path.dirname(out), ignore_errors=True)
report_baseline(base)
for label, t in times.items():
    report(label, t, base)
