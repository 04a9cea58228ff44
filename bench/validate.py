#!/usr/bin/env python3
"""Wall time of a cold `xendrvgen validate` (a new process each run, start
included), min and median over RUNS (default 10) with the ratio to
`python -c pass` timed in the same rounds (see _timing.cold).

With the header-facts cache (installed headers unchanged since the last
run: the usual case in CI and at a desk) and without it
(XENDRVGEN_NO_CACHE=1: gcc and libclang analyse both headers on four ABIs).
"""
from __future__ import annotations

import os
import sys

from _timing import cold, report, report_baseline, time_command, use_bytecode, xendrvgen

args = [a for a in sys.argv[1:] if not a.startswith("--")]
runs = max(10, int(args[0])) if args else 10
use_bytecode("--as-is" in sys.argv)
argv = xendrvgen() + ["validate"]
no_cache = dict(os.environ, XENDRVGEN_NO_CACHE="1")
time_command(argv, 1)  # fill the cache
times, base = cold({
    "validate, both installed headers (cached)": (argv, None, None),
    "validate, both installed headers (no cache)": (argv, no_cache, None),
    "validate --header <Xen's> (no cache)": (argv + ["--header", "/usr/include/xen/io/blkif.h"], no_cache, None),
}, runs)
report_baseline(base)
for label, t in times.items():
    report(label, t, base)
