#!/usr/bin/env python3
"""Size and time of the model check: states, transitions and seconds of the
search itself (in process), and the wall time of a cold `xendrvgen model-check`."""
from __future__ import annotations

import sys
import time

from _timing import ROOT, report, time_command, xendrvgen

sys.path.insert(0, str(ROOT))
from xendrvgen.plan import modelcheck
from xendrvgen import plan, spec  # noqa: E402

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
p = plan.build(spec.load(ROOT / "specs" / "blkif.yaml"))
best = None
for _ in range(runs):
    t0 = time.perf_counter()
    res = modelcheck.check(p)
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(f"model-check search: {res.states} states, {res.transitions} transitions, best of {runs}: {best * 1000:.1f} ms"
      f" ({'no violation' if res.ok else f'{len(res.violations)} violations'})")
report("model-check, cold process", time_command(xendrvgen() + ["model-check"], runs))
