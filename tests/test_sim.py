"""xendrvgen sim: our frontend and backend, run against each other and against peers.

Every scenario must pass for our pair and for each peer personality, with
the disk image verified byte for byte; and each known interop fault of Xen
driver history, put back into the rendered logic (a spec mutation or a
template override, as the model-check and lifecycle tests do), must make
the scenario it concerns fail with the message that names it.  The binary of
the shipped spec is built once for the module; each fault builds its own.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from xendrvgen import plan as plan_mod
from xendrvgen.base.paths import TEMPLATES_DIR
from xendrvgen.sim import build, personalities, run
from xendrvgen.sim.scenarios import BY_SCENARIO, SCENARIOS, Pair, Scenario

ROOT = Path(__file__).resolve().parents[1]

if not (shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")):
    pytest.skip("no host C compiler (apt-get install gcc)", allow_module_level=True)
if not Path("/usr/include/xen/io/ring.h").is_file():
    pytest.skip("Xen's public headers are missing (apt-get install libxen-dev)", allow_module_level=True)

OURS = Pair("ours", "ours", "linux", "linux")
PEER_PAIRS = [Pair("ours", p.name, "linux", "linux") if p.side == "backend" else Pair(p.name, "ours", "linux", "linux")
              for p in personalities.PERSONALITIES]


@pytest.fixture(scope="module")
def sim(spec, plan):
    return build.build(spec, plan, "linux", "linux", cache=False).exe


def run_all(exe: Path, pair: Pair) -> list:
    return [run.run_one(exe, sc, pair) for sc in SCENARIOS if sc.applies(pair)]


def failures(results) -> str:
    return "\n\n".join(run.render_failure(r, limit=60) for r in results if not r.ok)


# --- everything passes on the shipped spec ---------------------------------------------------

def test_every_scenario_passes_for_our_pair(sim):
    results = run_all(sim, OURS)
    assert len(results) == len(SCENARIOS)
    assert all(r.ok for r in results), failures(results)
    assert sum(r.requests for r in results) > 150          # the data went through the ring


@pytest.mark.parametrize("pair", PEER_PAIRS, ids=lambda p: p.front if p.back == "ours" else p.back)
def test_every_scenario_passes_against_each_personality(sim, pair):
    results = run_all(sim, pair)
    assert len(results) >= 5
    assert all(r.ok for r in results), failures(results)


def test_other_seeds_deliver_in_other_orders(sim):
    """The seed changes the order of watch events and notifications; the outcome holds."""
    traces = set()
    for seed in (2, 3, 4):
        res = run.run_one(sim, BY_SCENARIO["data"], OURS, seed)
        assert res.ok, run.render_failure(res)
        traces.add("\n".join(t for t in res.trace if "watch" in t or "state" in t))
    assert len(traces) > 1


def test_the_32bit_frontend_is_served_through_translation(sim):
    res = run.run_one(sim, BY_SCENARIO["data"], Pair("x86_32-front", "ours", "linux", "linux"))
    assert res.ok, run.render_failure(res)
    assert any("protocol x86_32-abi" in t for t in res.trace)


def test_cli_exit_codes_and_json():
    base = [sys.executable, "-m", "xendrvgen.cli", "sim"]
    r = subprocess.run(base + ["--scenario", "startup", "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["results"][0]["scenario"] == "startup"
    for bad, says in ((["--scenario", "nope"], "known: all, startup"), (["--back", "edk2"], "EDK2 has no backend"),
                      (["--front", "hurd"], "edk2-front")):
        r = subprocess.run(base + bad, capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 2 and says in r.stderr, r.stderr


# --- historical faults put back --------------------------------------------------------------

def faulty(spec, overrides=None, plan=None):
    return build.build(spec, plan or plan_mod.build(spec), "linux", "linux", overrides=overrides, cache=False).exe


def override(template: str, old: str, new: str) -> dict:
    text = (TEMPLATES_DIR / template).read_text()
    assert text.count(old) == 1, f"the template changed: update this test ({old!r})"
    return {template: text.replace(old, new)}


def failed_with(exe, scenario: str, pair: Pair, *needles: str, script=None):
    sc = BY_SCENARIO[scenario]
    if script is not None:
        sc = Scenario(sc.name, sc.what, script, sc.check, sc.applies, sc.allow_fatal)
    res = run.run_one(exe, sc, pair)
    assert not res.ok, f"{scenario} passed with the fault in place"
    text = "\n".join(res.problems)
    for n in needles:
        assert n in text, f"expected {n!r} in:\n{run.render_failure(res, limit=80)}"
    return res


def test_backend_that_tears_the_ring_down_on_the_frontends_closing(spec):
    """Backends once disconnected (unmapped the ring) as soon as the frontend
    said Closing, while a mounted disk still had I/O to do: the frontend's
    requests in Closing were never answered."""
    def be_fix(t):
        if t.when != ("Closing",):
            return t
        return replace(t, sources=tuple(dict.fromkeys((*t.sources, "Closing"))), do=("unmap_rings",))
    be = spec.machine("backend")
    machines = tuple(replace(m, transitions=tuple(be_fix(t) for t in m.transitions)) if m is be else m
                     for m in spec.machines)
    broken = replace(spec, machines=machines, _index={})
    res = failed_with(faulty(broken), "close-toolstack", OURS, "never completed")
    assert any("backend: mapped" in t for t in res.trace)


def test_frontend_announcing_ring_page_order_0_for_a_one_page_ring(spec):
    """A frontend that writes ring-page-order (0) and num-ring-pages (1) for a
    one-page ring, and ring-ref, not ring-ref0: a Linux-style backend takes
    ring-page-order as the multi-page scheme and looks for ring-ref0 (how
    FreeBSD's blkfront once failed against XenServer's backend)."""
    exe = faulty(spec, override("common/_driver.j2",
                                "if n.condition == 'differs_from_default' and n.default else ''",
                                "if false else ''"))
    failed_with(exe, "ring-one-page", Pair("ours", "linux-back", "linux", "linux"), "ring-ref0")
    # Our own backend accepts either form: the same fault passes against it.
    assert run.run_one(exe, BY_SCENARIO["ring-one-page"], OURS).ok


def test_frontend_reading_only_max_ring_page_order_from_a_max_ring_pages_backend(spec):
    """A frontend that knows only the order scheme (max-ring-page-order) gets
    one page from a backend that publishes the page-count scheme only
    (max-ring-pages), as multi-page rings first shipped on one side."""
    exe = faulty(spec, override("common/_driver.j2", "{% if d.peer_legacy %}\n{{ I }}if ({{ xs }}.present",
                                "{% if false %}\n{{ I }}if ({{ xs }}.present"))
    failed_with(exe, "ring-multi-page", Pair("ours", "freebsd-back", "linux", "linux"),
                "negotiated order 0, expected 2")


def test_backend_answering_an_indirect_request_with_op_indirect(spec, plan):
    """The generated backend once named BLKIF_OP_INDIRECT in the response to
    an indirect request; Linux's frontend wants the inner operation and stops
    the disk otherwise (found by `xendrvgen interop`)."""
    exe = faulty(spec, override("sim/sim_back.c.j2", "rsp.operation = q.op;", "rsp.operation = q.operation;"),
                 plan)
    failed_with(exe, "data", OURS, "names operation 6, the request was 1")


def test_32bit_frontend_that_never_writes_protocol(sim):
    """A 32-bit guest's frontend that omits `protocol` against a 64-bit
    backend: the backend reads its 108-byte requests with the native layout
    (early 32-on-64 guests)."""
    pair = Pair("x86_32-front", "ours", "linux", "linux")
    sc = BY_SCENARIO["data"]
    failed_with(sim, "data", pair, "which no request has",
                script=lambda p: [sc.script(p)[0], "param fe protocol 0", *sc.script(p)[1:]])


FRONT_4K = Pair("4k-front", "ours", "linux", "linux")


def test_the_4k_frontend_sees_the_disk_in_512_byte_units_and_4096_byte_blocks(sim):
    res = run.run_one(sim, BY_SCENARIO["sector-4k"], FRONT_4K)
    assert res.ok, run.render_failure(res, limit=60)
    assert res.requests > 10


def test_backend_counting_sectors_in_logical_blocks(spec, plan):
    """A backend on a 4Kn disk that wrote `sectors` in 4096-byte blocks (as
    the protocol text once allowed): a frontend that reads it as 512-byte
    units sees an eighth of the disk."""
    exe = faulty(spec, override("sim/sim_back.c.j2", "'capacity' -%}(sim_disk.bytes / 512)",
                                "'capacity' -%}(sim_disk.bytes / sim_disk.lbs)"), plan)
    failed_with(exe, "sector-4k", FRONT_4K, "sectors 512, expected 4096")


def test_backend_announcing_512_byte_sectors_on_a_4k_disk(spec, plan):
    """A backend that always wrote sector-size 512: its frontend sends 512-byte
    I/O the 4Kn backing store cannot take."""
    exe = faulty(spec, override("sim/sim_back.c.j2",
                                "'logical_block_size', 'physical_block_size', 'discard_granularity') -%}sim_disk.lbs",
                                "'logical_block_size', 'physical_block_size', 'discard_granularity') -%}512"), plan)
    failed_with(exe, "sector-4k", FRONT_4K, "sector_size 512, expected 4096")
