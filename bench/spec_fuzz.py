#!/usr/bin/env python3
"""Fuzz the spec for longer than the test does, with fresh seeds: prints how
many edited specs were refused, rendered and compiled, the rate, and every
finding (a crash, a template error on an accepted spec, a header that does
not compile, a description that changed the code).

    python bench/spec_fuzz.py [EXAMPLES]      (default 1000)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

from _timing import ROOT

sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("XENDRVGEN_CACHE_DIR", tempfile.mkdtemp(prefix="xendrvgen-fuzz-cache-"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import specfuzz  # noqa: E402

examples = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
seen = specfuzz.Outcome()


@settings(max_examples=examples, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(specfuzz.edits(), st.sampled_from(specfuzz.FUZZ_OSES))
def fuzz(edit_list, os_name):
    specfuzz.run_one(edit_list, os_name, seen)


t0 = time.perf_counter()
fuzz()
dt = time.perf_counter() - t0
total = seen.refused + seen.rendered
print(f"spec fuzz: {total} edited specs in {dt:.1f} s ({total / dt:.1f}/s): {seen.refused} refused (exit 2), "
      f"{seen.rendered} rendered ({seen.text_only} text-only, compared with the shipped spec's code), "
      f"{seen.compiled} compiled, {len(seen.findings)} findings")
for kind, edits, detail in seen.findings[:20]:
    print(f"- {kind}: {edits!r}\n    {str(detail)[:400]}")
sys.exit(1 if seen.findings else 0)
