"""The lifecycle of a front/back pair, simulated from what every OS renders.

tests/harness/lifecycle.c.j2 renders both sides' reaction tables and events
with the shared macros every OS's templates use (state_switch, event_switch,
run_steps of templates/common/_driver.j2), replaces each action with a model
of its effect on the shared ring and the disk, and builds that on the host.
The scenarios are the lifecycle edges real peers meet: a close asked by the
toolstack with the disk open or not, a frontend driver that goes away, a
resume with requests in flight.  The model reports any grant revoked while
the backend maps it, any ring unmapped under a frontend still queueing on it,
and any disk pulled from under its users.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest

from xendrvgen.render import environment as render
from xendrvgen.base.paths import TEMPLATES_DIR

HARNESS = Path(__file__).resolve().parent / "harness"


def build_sim(spec, plan, tmp: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("clang") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler (apt-get install gcc)")
    env = render.environment(TEMPLATES_DIR)
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(HARNESS)), env.loader])
    src = tmp / "lifecycle.c"
    src.write_text(env.get_template("lifecycle.c.j2").render(spec=spec, plan=plan))
    exe = tmp / "lifecycle"
    r = subprocess.run([cc, "-std=gnu99", "-Wall", "-Werror", "-o", str(exe), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


@pytest.fixture(scope="module")
def sim(spec, plan, tmp_path_factory):
    return build_sim(spec, plan, tmp_path_factory.mktemp("lifecycle"))


def run(exe: Path, commands: list[str]) -> list[str]:
    r = subprocess.run([str(exe)], input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def shown(out: list[str]) -> list[dict]:
    """The `show` lines, as dicts."""
    res = []
    for line in out:
        if line.startswith("state "):
            w = line.split()
            d = {"fe": w[1], "be": w[2]}
            d.update({w[i]: int(w[i + 1]) for i in range(3, len(w), 2)})
            res.append(d)
    return res


def violations(out: list[str]) -> list[str]:
    return [line for line in out if line.startswith("VIOLATION")]


def test_startup_connects_both_sides(sim):
    out = run(sim, ["start", "show"])
    (st,) = shown(out)
    assert (st["fe"], st["be"]) == ("Connected", "Connected")
    assert st["granted"] and st["mapped"] and st["queueing"] and st["disks"] == 1
    assert not violations(out)


def test_the_backend_goes_initwait_before_the_hotplug_script_runs(sim):
    """Toolstacks (libxl) run the hotplug script that sets up the backing
    store only once the backend is in InitWait; the frontend may be waiting
    in Initialised by then, and the pair connects once the store is open."""
    out = run(sim, ["probe", "show", "hotplug", "show"])
    before, after = shown(out)
    assert (before["fe"], before["be"]) == ("Initialised", "InitWait") and not before["mapped"]
    assert (after["fe"], after["be"]) == ("Connected", "Connected") and after["mapped"]
    assert "be map_rings: not yet" in out
    assert not violations(out), violations(out)


def test_toolstack_close_waits_for_an_open_disk_and_keeps_serving_it(sim):
    """The toolstack asks the backend to close (libxl writes Closing into the
    backend's state) while a file system holds the disk: the frontend stays in
    Closing and keeps its I/O going, the backend keeps serving; once the disk
    is released both reach Closed and the ring goes away in order."""
    out = run(sim, ["start", "open 1", "toolstack Closing", "io 4", "show", "close", "show"])
    during, after = shown(out)
    assert (during["fe"], during["be"]) == ("Closing", "Closing")
    assert during["mapped"] and during["queueing"] and during["disk"] and during["granted"]
    assert (after["fe"], after["be"]) == ("Closed", "Closed")
    assert not (after["mapped"] or after["granted"] or after["disk"])
    assert not violations(out), violations(out)


def test_toolstack_close_event_of_the_backend(sim):
    """The same close, raised as the backend's toolstack_close event (the
    `online` node set to 0), with nobody holding the disk."""
    out = run(sim, ["start", "event be toolstack_close", "show"])
    (st,) = shown(out)
    assert (st["fe"], st["be"]) == ("Closed", "Closed")
    assert not (st["mapped"] or st["granted"])
    assert not violations(out), violations(out)


def test_resume_keeps_the_disk_and_resends_what_was_in_flight(sim):
    """xl save / xl restore: the old backend is gone, a new one starts; the
    frontend reconnects under the same disk and sends again the requests
    that were in flight, and nothing is revoked under a live mapping."""
    out = run(sim, ["start", "io 5", "resume", "show"])
    (st,) = shown(out)
    assert (st["fe"], st["be"]) == ("Connected", "Connected")
    assert st["disks"] == 1 and st["disk"] and st["resent"] == 5 and st["kept"] == 0
    assert not violations(out), violations(out)


def test_frontend_removal_and_reconnect(sim):
    """The frontend driver goes away (forced) and a new one probes: the
    backend lets go of the ring only once the frontend is Closed, then offers
    its features again and the pair connects afresh."""
    out = run(sim, ["start", "event fe removed", "show"])
    (st,) = shown(out)
    assert (st["fe"], st["be"]) == ("Closed", "Closed") and not st["mapped"]
    assert not violations(out), violations(out)


def test_the_model_catches_the_old_close_sequence(spec, plan, tmp_path):
    """The simulation is only worth something if it fails on the faults it
    is for: the diagrams before the fix (a backend that unmaps when the
    frontend says Closing, a frontend that revokes its grants right after
    Closing and pulls an open disk) must be flagged."""
    from dataclasses import replace

    from xendrvgen import plan as plan_mod
    from xendrvgen.spec.model import Transition
    fe, be = spec.machine("frontend"), spec.machine("backend")

    def old(m, fix):
        return replace(m, transitions=tuple(fix(t) for t in m.transitions))

    def fe_fix(t):
        if t.when == ("Closing",) and t.sources == ("Connected",):
            return replace(t, to="Closing", do=("stop_io",))
        if t.event == "disk_released":
            return Transition(("Closing",), "Closed", None, "close", ("release_rings",), "", t.mark)
        return t

    def be_fix(t):
        if t.when == ("Closing",):
            return replace(t, do=("unmap_rings",))
        return t
    machines = tuple(old(m, fe_fix if m is fe else be_fix) for m in spec.machines)
    broken = replace(spec, machines=machines, _index={})
    exe = build_sim(broken, plan_mod.build(broken), tmp_path)
    out = run(exe, ["start", "open 1", "toolstack Closing"])
    found = " ".join(violations(out))
    assert "pulled from under its users" in found
    assert "grants revoked while the backend maps the ring" in found
