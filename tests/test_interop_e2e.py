"""`xendrvgen interop` for real: Xen 4.17 in QEMU (TCG) with a Debian dom0.

The fast set (attach and read/write, hot attach/detach, save/restore) runs
once for the three pairings of the generated and the stock Linux drivers; each
pairing x scenario is its own test, so a report names exactly what broke.  A
frontend that never writes ring-ref must fail with a message naming it.

Needs qemu-system-x86 and busybox-static (.ci/install.sh installs them) and
network access to a Debian mirror the first time (the images are cached).
Skipped only when QEMU is absent.  Timings are printed (pytest -s shows them).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xendrvgen.interop import scenarios

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None,
                                reason="qemu-system-x86_64 is missing: apt-get install qemu-system-x86")
FAST = [s.name for s in scenarios.select("fast")]


def interop(*args: str) -> tuple[int, dict, str, float]:
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "xendrvgen.cli", "interop", "--os", "linux", "--format", "json",
                        *args], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    seconds = time.monotonic() - t0
    assert p.returncode in (0, 1), f"exit {p.returncode}:\n{p.stderr}"
    return p.returncode, json.loads(p.stdout), p.stderr, seconds


def explain(r: dict) -> str:
    return f"{r['pairing']} {r['scenario']}: {r['status']}: {r['detail']}\n" + "\n".join(r["logs"])


@pytest.fixture(scope="session")
def fast_run():
    rc, data, _, seconds = interop("--scenario", "fast")
    print(f"\ninterop fast set, 3 pairings: {seconds:.0f} s wall (image {data['image_seconds']} s, "
          f"boots {data['boots']})")
    return data


@pytest.mark.parametrize("scenario", FAST)
@pytest.mark.parametrize("pairing", scenarios.DEFAULT_PAIRINGS)
def test_fast_set(fast_run, pairing, scenario):
    got = [r for r in fast_run["results"] if r["pairing"] == pairing and r["scenario"].split("/")[0] == scenario]
    assert got, f"no result for {pairing} {scenario}"
    bad = [r for r in got if r["status"] == "FAIL"]
    assert not bad, "\n\n".join(explain(r) for r in bad)


def test_a_frontend_that_never_writes_ring_ref_fails_naming_it(tmp_path):
    gen = tmp_path / "generated"
    shutil.copytree(ROOT / "generated" / "linux", gen / "linux")
    front = gen / "linux" / "xen-blkfront.c"
    text = front.read_text()
    # Break the template's output: no ring-ref / ring-ref%u node is ever written.
    broken, n = re.subn(r"err = xdg_write_uint\(xbt, own, node, refs\[(0|i)\]\);", "err = 0;", text)
    assert n == 2, "the ring-ref writes of xbf_write_ring() moved: update this test"
    front.write_text(broken)
    rc, data, _, seconds = interop("--scenario", "fast", "--pairing", "ours-stock", "--generated", str(gen))
    print(f"\ninterop fast set, broken frontend: {seconds:.0f} s wall")
    assert rc == 1
    attach = next(r for r in data["results"] if r["scenario"] == "attach-rw")
    assert attach["status"] == "FAIL"
    assert "ring-ref" in attach["detail"], explain(attach)
    assert re.search(r"frontend state \d \(\w+\), backend state \d \(\w+\)", attach["detail"]), explain(attach)
