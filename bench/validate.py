#!/usr/bin/env python3
"""Wall time of a cold `xendrvgen validate` (process start included)."""
from __future__ import annotations

import sys

from _timing import report, time_command, xendrvgen

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
report("xendrvgen validate (all installed headers)", time_command(xendrvgen() + ["validate"], runs))
report("xendrvgen validate --header <Xen's>",
       time_command(xendrvgen() + ["validate", "--header", "/usr/include/xen/io/blkif.h"], runs))
