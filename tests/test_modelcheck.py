"""xendrvgen model-check: every interleaving of the two state diagrams.

The shipped spec passes.  Each seeded fault below is a spec edit that the
static checks accept (it loads and validates) but that breaks the protocol
only in some order of events; the model checker must name the fault and
give the trace that reaches it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen.plan import modelcheck
from xendrvgen import plan as plan_mod
from xendrvgen import spec as spec_mod

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "blkif.yaml"

BE_CONNECT = ("{from: [InitWait, Initialised], to: Connected, when: [Initialised, Connected], kind: startup, "
              "do: [map_rings, publish_device_properties]}")
BE_CLOSED = ("{from: [InitWait, Initialised, Connected, Closing], to: Closed, when: [Closed], kind: close, "
             "do: [unmap_rings],")
FE_CLOSING = ("{from: [Connected], to: Closing, when: [Closing], kind: close, do: [close_when_idle],")
FE_RELEASED = "{from: [Closing], to: Closed, when: {event: disk_released}, kind: close, do: [stop_io],"
BE_RECONNECT = "{from: [Connected, Closed], to: InitWait, when: [Initialising], kind: reconnect,"


def check_text(text: str):
    return modelcheck.check(plan_mod.build(spec_mod.loads(text, "specs/blkif.yaml")))


def mutated(old: str, new: str, *more: str) -> str:
    """The spec with `old` replaced by `new` (and each further old/new pair)."""
    text = SPEC.read_text()
    edits = [(old, new), *zip(more[::2], more[1::2])]
    for o, n in edits:
        assert text.count(o) == 1, f"the spec changed: update this test ({o!r})"
        text = text.replace(o, n)
    return text


def test_the_shipped_spec_has_no_violation():
    res = modelcheck.check(plan_mod.build(spec_mod.load(SPEC)))
    assert res.ok, modelcheck.render_text(res)
    assert res.states > 50 and res.transitions > res.states     # the search did explore


FAULTS = {
    # A backend that connects only once the frontend is Connected (it ignores Initialised):
    # the frontend waits for the backend's Connected, the backend for the frontend's.
    "backend_ignores_initialised": (
        (BE_CONNECT, BE_CONNECT.replace("when: [Initialised, Connected]", "when: [Connected]"),
         "ignores: [Unknown, InitWait, Reconfiguring", "ignores: [Unknown, InitWait, Initialised, Reconfiguring"),
        "waits_forever", "frontend Initialised, backend InitWait"),
    # A backend that maps the rings as soon as the frontend is up, before ring-ref exists.
    "backend_maps_before_ring_ref": (
        BE_CONNECT, BE_CONNECT.replace("when: [Initialised, Connected]", "when: [Initialised, Connected, Initialising]"),
        "read_before_write", "has not published ring-ref"),
    # A backend that connects without publishing sectors and sector-size.
    # (The spec checks require every action to be done somewhere, so the
    # properties move to the reconnect, too late for the first connection.)
    "backend_never_publishes_device_properties": ((
        BE_CONNECT, BE_CONNECT.replace("do: [map_rings, publish_device_properties]", "do: [map_rings]"),
        BE_RECONNECT + " do: [unmap_rings, publish_features]",
        BE_RECONNECT + " do: [unmap_rings, publish_features, publish_device_properties]"),
        "read_before_write", "device properties"),
    # A backend that forgets to let go when a Closing frontend goes Closed: it sits in Closing.
    "backend_stays_closing": (
        BE_CLOSED, BE_CLOSED.replace("[InitWait, Initialised, Connected, Closing]", "[InitWait, Initialised, Connected]"),
        "waits_forever", "backend Closing"),
    # A frontend that never finishes its close once the disk is released: it sits in
    # Closing, and the backend keeps serving it, waiting for its Closed.
    "frontend_never_closes_a_released_disk": (
        FE_RELEASED, FE_RELEASED.replace("do: [stop_io]", "do: []").replace("to: Closed", "to: Closing"),
        "waits_forever", "frontend Closing, backend Closing"),
    # The fault model-check found in the shipped spec: a backend in Closing that takes a
    # stale look at a frontend still in Initialising as a restart, goes back to InitWait,
    # and has missed the hotplug script: it never opens the backing store.
    "backend_reconnects_from_closing": (
        BE_RECONNECT, BE_RECONNECT.replace("[Connected, Closed]", "[Connected, Closing, Closed]"),
        "waits_forever", "backend InitWait"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_seeded_fault_is_found_with_its_trace(name):
    *edit, kind, where = FAULTS[name]
    if isinstance(edit[0], tuple):
        edit = list(edit[0])
    res = check_text(mutated(*edit))
    found = [v for v in res.violations if v.kind == kind]
    assert found, f"{name}: expected {kind}, got:\n{modelcheck.render_text(res)}"
    v = found[0]
    assert where in v.message, modelcheck.render_text(res)
    assert v.trace and v.trace[0].startswith("frontend probes"), v.trace
    text = modelcheck.render_text(res)
    assert f"{kind}: " in text and "\n  1. " in text


def test_cli_text_json_and_exit_codes(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "xendrvgen.cli", "model-check", *args],
                              cwd=ROOT, capture_output=True, text=True)
    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "states" in ok.stdout and "no deadlock" in ok.stdout
    bad = tmp_path / "blkif.yaml"
    old, new, _, _ = FAULTS["backend_stays_closing"]
    bad.write_text(mutated(old, new))
    got = run("--spec", str(bad), "--format", "json")
    assert got.returncode == 1
    data = json.loads(got.stdout)
    assert data["ok"] is False and data["violations"][0]["kind"] == "waits_forever"
    assert data["states"] > 0 and isinstance(data["seconds"], float)
    cut = run("--limit", "10")
    assert cut.returncode == 1 and "incomplete" in cut.stdout
    missing = run("--spec", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
