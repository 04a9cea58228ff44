#!/usr/bin/env python3
"""Wall time of a cold `xendrvgen validate` (a new process each run, start included).

Two figures: with the header-facts cache (installed headers unchanged since
the last run: the usual case in CI and at a desk) and without it
(XENDRVGEN_NO_CACHE=1: gcc and libclang analyse both headers on four ABIs).
"""
from __future__ import annotations

import os
import sys

from _timing import report, time_command, xendrvgen

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
argv = xendrvgen() + ["validate"]
time_command(argv, 1)  # fill the cache
report("validate, both installed headers (cached)", time_command(argv, runs))
os.environ["XENDRVGEN_NO_CACHE"] = "1"
report("validate, both installed headers (no cache)", time_command(argv, runs))
report("validate --header <Xen's> (no cache)",
       time_command(argv + ["--header", "/usr/include/xen/io/blkif.h"], runs))
