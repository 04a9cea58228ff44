#!/usr/bin/env python3
"""Figures of `xendrvgen sim`: the build of the binary (cold, no cache),
scenarios per second for our pair and with every personality, and requests
per second through the ring (a long run of 4 KiB writes and reads, each
answered and checked, trace included)."""
from __future__ import annotations

import subprocess
import sys
import time

from _timing import ROOT, report, time_command, xendrvgen

sys.path.insert(0, str(ROOT))
from xendrvgen import plan, spec  # noqa: E402
from xendrvgen.sim import build, run  # noqa: E402
from xendrvgen.sim.pairs import pairs_for  # noqa: E402
from xendrvgen.sim.scenarios import SCENARIOS  # noqa: E402

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
s = spec.load(ROOT / "specs" / "blkif.yaml")
p = plan.build(s)

times = []
for _ in range(runs):
    t0 = time.perf_counter()
    built = build.build(s, p, "linux", "linux", cache=False)
    times.append(time.perf_counter() - t0)
report("sim build (render + compile + link)", times)

for label, pairs in (("our pair", pairs_for("linux", "linux", False)), ("with every personality",
                                                                       pairs_for("linux", "linux", True))):
    t0 = time.perf_counter()
    n = ok = reqs = 0
    for pair in pairs:
        for sc in SCENARIOS:
            if sc.applies(pair):
                res = run.run_one(built.exe, sc, pair)
                n, ok, reqs = n + 1, ok + res.ok, reqs + res.requests
    dt = time.perf_counter() - t0
    print(f"scenarios, {label:<25} {n} in {dt:.2f} s: {n / dt:.1f} scenarios/s ({ok} passed, {reqs} requests)")

N = 4000
script = ["seed 1", "pair ours ours", "disk 65536 512", "start"]
script += [f"write {(i * 8) % 65000} 8 {i}" for i in range(N)] + ["wait"]
script += [f"read {(i * 8) % 65000} 8" for i in range(N)] + ["wait", "verify"]
t0 = time.perf_counter()
r = subprocess.run([str(built.exe)], input="\n".join(script) + "\n", capture_output=True, text=True)
dt = time.perf_counter() - t0
out = run.parse(r.stdout)
assert out.verified and not out.violations, r.stdout[-2000:]
print(f"ring throughput: {out.requests} requests (4 KiB each, answered, reads checked) in {dt:.2f} s: "
      f"{out.requests / dt:,.0f} requests/s")
report("xendrvgen sim (cold process, all scenarios)", time_command(xendrvgen() + ["sim"], runs))
