#!/usr/bin/env python3
"""Fuzz the generated backend's request path for longer than the test does:
builds the libFuzzer target of tests/backendfuzz.py (ASan and UBSan, or
MSan with --msan), seeds it, runs it and prints the inputs executed, the
backend requests served, both per second, libFuzzer's coverage (cov: edges,
ft: features) and any finding with the input that caused it.

    python bench/fuzz_backend.py [SECONDS] [--msan] [--corpus DIR]   (default 600 s)
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import ROOT

sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import backendfuzz as bf  # noqa: E402
from xendrvgen import plan as plan_mod  # noqa: E402
from xendrvgen.spec import load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("seconds", nargs="?", type=int, default=600)
ap.add_argument("--msan", action="store_true", help="MemorySanitizer instead of ASan and UBSan")
ap.add_argument("--corpus", type=Path, help="keep the corpus here, to go on from it next time")
opts = ap.parse_args()

cc, why = bf.clang()
if cc is None:
    sys.exit(why)
spec = load(ROOT / "specs" / "blkif.yaml")
plan = plan_mod.build(spec)
work = Path(tempfile.mkdtemp(prefix="xendrvgen-backend-fuzz-"))
src, inc = bf.render_harness(spec, plan, work)
exe = bf.build(cc, src, inc, work / "fuzz_backend", "memory" if opts.msan else "address,undefined")
corpus = opts.corpus or work / "corpus"
for p in bf.write_corpus(spec, plan, work / "seeds"):
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(p, corpus / p.name)
res = bf.run(exe, [corpus], work / "run", seconds=opts.seconds)
print(f"{'MSan' if opts.msan else 'ASan+UBSan'}: {res.summary()}")
if res.finding:
    print(f"FINDING: {res.finding}\ninput: {', '.join(map(str, res.artifacts))}\nlog: {work / 'run'}")
    (work / "run" / "fuzz.log").write_text(res.log)
    sys.exit(1)
shutil.rmtree(work)
