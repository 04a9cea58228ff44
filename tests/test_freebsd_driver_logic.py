"""The driver logic the FreeBSD, NetBSD and EDK2 templates share, run on the host.

templates/common/_driver.j2 spells xendrvgen's plan in C once for the three
systems: reading each XenStore node with its default and bounds, settling
each negotiated value, writing each action's nodes, and the backend's request
checks.  Here the same macros are rendered into a host program
(tests/harness/logic.c.j2, with the generated FreeBSD protocol headers), built
with the host's C compiler, and driven with an in-memory XenStore and with
hostile values and requests.  The expectations come from the plan and the
spec, not from the generated text.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest

from xendrvgen.spec import osprofile
from xendrvgen.render import environment as render
from xendrvgen.render.fieldaccess import Layout
from xendrvgen.compile import _cbuild
from xendrvgen.base.paths import PROFILES_DIR, TEMPLATES_DIR

import drivercov as dc

HARNESS = Path(__file__).resolve().parent / "harness"
CONTRACT = dc.ROOT / "contracts" / "freebsd" / "include"
FE, BE = "device/vbd/768", "backend/vbd/1/768"




@pytest.fixture(scope="module")
def harness(spec, plan, tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("clang") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler (apt-get install gcc)")
    tmp = tmp_path_factory.mktemp("logic")
    gen = dc.render("freebsd", dc.SPEC, tmp / "gen")
    profile = osprofile.load(PROFILES_DIR / "freebsd.yaml")
    env = render.environment(TEMPLATES_DIR)
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(HARNESS)), env.loader])
    text = env.get_template("logic.c.j2").render(spec=spec, os=profile, plan=plan, layout=Layout(spec, profile))
    src = tmp / "logic.c"
    src.write_text(text)
    exe = tmp / "logic"
    r = subprocess.run([cc, "-std=gnu99", "-Wall", "-Werror", "-Wno-unused-function",
                        "-I", str(gen / "freebsd" / "sys"), "-I", str(CONTRACT / "contrib" / "xen" / "io"),
                        "-I", str(CONTRACT),
                        # the contract ring.h includes Xen's installed <xen-public/io/ring.h>
                        "-idirafter", str(_cbuild.xen_public_include(tmp)),
                        str(src), "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def run(exe: Path, commands: list[str]) -> list[str]:
    r = subprocess.run([str(exe)], input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


# --- the frontend settles what the backend offered ----------------------------------------

def test_frontend_with_a_one_page_ring_writes_no_ring_order_nodes(harness, plan):
    """A backend offering no multi-page ring (or one page): the frontend
    publishes neither ring-page-order nor num-ring-pages, only what old
    backends expect -- where FreeBSD's own driver broke XenServer."""
    neg = plan.negotiated("ring_page_order")
    out = run(harness, [f"run fe {a}" for a in ("negotiate", "publish_transport")] + [
        f"get {FE}/{neg.accept}", f"get {FE}/{neg.legacy.accept}", "neg fe ring_page_order"])
    assert out[:2] == ["rc 0 ", "rc 0 "]
    assert out[2:] == ["<absent>", "<absent>", "0"]


@pytest.mark.parametrize("offer,legacy,local,order", [
    ("4", None, None, 4), ("9", None, None, None), ("2", None, "1", 1), (None, "8", None, 3), ("1", "16", None, 4)])
def test_frontend_settles_the_ring_order_as_the_plan_says(harness, plan, offer, legacy, local, order):
    neg = plan.negotiated("ring_page_order")
    cmds = []
    if offer is not None:
        cmds.append(f"set {BE}/{neg.offer} {offer}")
    if legacy is not None:
        cmds.append(f"set {BE}/{neg.legacy.offer} {legacy}")
    if local is not None:
        cmds.append(f"param fe {plan.frontend.decision('ring_page_order').param} {local}")
    cmds += ["run fe negotiate", "run fe publish_transport", "neg fe ring_page_order",
             f"get {FE}/{neg.accept}", f"get {FE}/{neg.legacy.accept}"]
    out = run(harness, cmds)
    got = int(out[2])
    want = order if order is not None else neg.local_limit
    assert got == want
    if got:
        # Both schemes are written, and agree.
        assert out[3:] == [str(got), str(1 << got)]
    else:
        assert out[3:] == ["<absent>", "<absent>"]


def test_frontend_clamps_and_defaults_what_it_reads(harness, plan):
    segs = plan.frontend.read("max-request-segments")
    out = run(harness, [f"set {BE}/{segs.name} 99999", f"set {BE}/{plan.negotiated('queues').offer} junk",
                        "run fe negotiate", f"stored fe {segs.field}", "neg fe queues"])
    assert out[0] == "rc 0 "
    assert int(out[1]) == segs.max.value           # clamped to the spec's limit
    assert int(out[2]) == plan.frontend.decision("queues").default   # not a number: the default


def test_frontend_fails_without_a_required_node(harness, plan):
    req = [n for n in plan.frontend.reads_in("read_device_properties") if n.need == "required"]
    assert req
    out = run(harness, ["run fe read_device_properties"])
    assert out[0].startswith("rc 2 missing " + BE + "/")


def test_frontend_settles_features_both_ways(harness, plan):
    pg = plan.negotiated("persistent_grants")
    ind = plan.negotiated("indirect_segments")
    out = run(harness, [f"set {BE}/{pg.offer} 7", f"set {BE}/{ind.offer} 100000",
                        f"set {BE}/sector-size 512", f"set {BE}/sectors 100", f"set {BE}/info 0",
                        "run fe read_device_properties", "neg fe persistent_grants", "neg fe indirect_segments",
                        f"param fe {pg.param} 0", "run fe read_device_properties", "neg fe persistent_grants"])
    assert out[0] == "rc 0 "
    assert out[1] == "1"                            # a bool read as 7 is clamped to 1, and both offered
    assert int(out[2]) == ind.local_limit           # min(backend's, ours)
    assert out[4] == "0"                            # our offer off: off


# --- the ring nodes, written and read by the shared transport code -------------------------------

def test_a_one_page_ring_is_ring_ref_never_ring_ref0(harness, plan):
    T = plan.transport
    ref0 = T.ring_ref_pattern.replace("%u", "0")
    out = run(harness, ["wring -1 0 7", f"get {FE}/{T.ring_ref}", f"get {FE}/{ref0}", f"get {FE}/{T.event_channel}"])
    assert out == ["rc 0 ", "10", "<absent>", "7"]


def test_a_multi_page_ring_is_one_node_per_page_in_each_queue(harness, plan):
    T = plan.transport
    queue = T.queue_dir.replace("%u", "1")
    pages = [f"get {FE}/{queue}/{T.ring_ref_pattern.replace('%u', str(i))}" for i in range(4)]
    out = run(harness, ["wring 1 2 9", *pages, f"get {FE}/{queue}/{T.ring_ref}", f"get {FE}/{queue}/{T.event_channel}"])
    assert out == ["rc 0 ", "10", "11", "12", "13", "<absent>", "9"]


def test_the_backend_reads_what_the_frontend_wrote(harness, plan):
    T = plan.transport
    ref0 = T.ring_ref_pattern.replace("%u", "0")
    out = run(harness, [
        "wring -1 0 7", "rring -1 0 1",                        # one page, ring-ref
        "wring -1 2 8", "rring -1 1 4",                        # four pages
        "wring 0 0 5", "rring 0 0 1",                          # a queue's one-page ring
        f"del {FE}/{T.ring_ref}", f"set {FE}/{ref0} 44", "rring -1 1 1",   # ring-ref0 of an order-0 ring
        f"del {FE}/{ref0}", "rring -1 1 1",                    # nothing at all
        f"set {FE}/{T.event_channel} 4294967296", f"set {FE}/{T.ring_ref} 1", "rring -1 0 1"])  # no such port
    assert out[1] == "rc 0 10 evtchn 7 "
    assert out[3] == "rc 0 10 11 12 13 evtchn 8 "
    assert out[5] == "rc 0 10 evtchn 5 "
    assert out[6] == "rc 0 44 evtchn 8 "
    assert out[7].startswith("rc 2 evtchn 0 missing") and out[8].startswith("rc 2 evtchn 0 missing")


# --- what each side derives from what it read --------------------------------------------------

def fields(line: str) -> dict:
    words = line.split()
    return {"rc": int(words[1]), **{words[i]: int(words[i + 1]) for i in range(2, len(words) - 1, 2)}}


def device_nodes(extra: list[str] = ()) -> list[str]:
    return [f"set {BE}/sector-size 512", f"set {BE}/sectors 1000", f"set {BE}/info 0", *extra]


def test_frontend_identity_and_geometry(harness, plan):
    out = run(harness, [
        f"set {FE}/virtual-device-ext 268439552", f"set {FE}/device-type cdrom", "run fe probe_device",
        *device_nodes(), "run fe read_device_properties", "derive",
        f"set {FE}/virtual-device 51712", f"set {FE}/trusted 0", f"set {FE}/device-type disk",
        "run fe probe_device", "derive"])
    first = fields(out[2])
    assert first == dict(first, rc=0, vdev=268439552, cdrom=1, bounce=0,
                         max_segs=plan.requests.max_direct_segments.value)
    second = fields(out[4])
    assert (second["vdev"], second["cdrom"], second["bounce"]) == (51712, 0, 1)


def test_4k_sectors_keep_512_byte_units_and_persistent_grants_as_negotiated(harness, plan):
    """Every sector field counts 512-byte units whatever sector-size says; the
    frontend only accepts a sector-size that is a power of two no larger than
    a page, and no longer offers feature-large-sector-size (deprecated)."""
    pg = plan.negotiated("persistent_grants")
    out = run(harness, [
        f"set {FE}/virtual-device 51712", "run fe probe_device", "run fe publish_transport",
        f"get {FE}/feature-large-sector-size",
        *device_nodes([f"set {BE}/sector-size 4096", f"set {BE}/{pg.offer} 1"]),
        "run fe read_device_properties", "derive",
        f"set {BE}/sector-size 3000", "run fe read_device_properties", "derive",
        f"set {BE}/sector-size 8192", "run fe read_device_properties", "derive"])
    assert out[2] == "<absent>"
    got = fields(out[4])
    assert got["rc"] == 0 and got["bounce"] == 1
    assert fields(out[6])["rc"] != 0                 # not a power of two
    assert fields(out[8])["rc"] != 0                 # more than a page


def test_backend_identity(harness, plan):
    out = run(harness, [f"set {BE}/mode r", f"set {BE}/physical-device 8:1", f"set {FE}/device-type cdrom",
                        "run be open_backing", "derive", f"set {BE}/mode w", "run be open_backing", "derive",
                        f"set {BE}/mode x", "run be open_backing"])
    assert fields(out[1])["readonly"] == 1 and fields(out[1])["be_cdrom"] == 1
    assert fields(out[3])["readonly"] == 0
    # `mode` is an enum of the spec: a value it does not allow is no mode at all.
    assert out[4].startswith("rc 2 missing")


# --- the backend treats the frontend's XenStore values as hostile -----------------------------

def backend_ready(plan) -> list[str]:
    return [f"set {BE}/mode w", f"set {BE}/physical-device 8:1", "run be open_backing", "run be publish_features"]


@pytest.mark.parametrize("name,value,reason", [
    ("ring-page-order", "9", "range"), ("num-ring-pages", "3", "disagree"), ("multi-queue-num-queues", "0", "range"),
    ("multi-queue-num-queues", "99", "range")])
def test_backend_rejects_what_the_frontend_could_not_have_allocated(harness, plan, name, value, reason):
    out = run(harness, backend_ready(plan) + [f"set {FE}/{name} {value}", "run be map_rings"])
    assert out[:2] == ["rc 0 ", "rc 0 "]
    assert out[2].split()[1] != "0" and out[2].split()[2] == reason, out


def test_backend_accepts_both_ring_schemes_when_they_agree(harness, plan):
    out = run(harness, backend_ready(plan) + [f"set {FE}/ring-page-order 2", f"set {FE}/num-ring-pages 4",
                                              "run be map_rings", "neg be ring_page_order",
                                              f"del {FE}/ring-page-order", "run be map_rings",
                                              "neg be ring_page_order"])
    assert out[2:] == ["rc 0 ", "2", "rc 0 ", "2"]


def test_backend_publishes_both_ring_schemes(harness, plan):
    neg = plan.negotiated("ring_page_order")
    out = run(harness, backend_ready(plan) + [f"get {BE}/{neg.offer}", f"get {BE}/{neg.legacy.offer}"])
    order = int(out[2])
    assert order == plan.backend.decision("ring_page_order").default or order == neg.local_limit
    assert int(out[3]) == 1 << order


def test_backend_clamps_the_frontends_limits(harness, plan):
    mr = plan.backend.read("max-request-segments")
    out = run(harness, backend_ready(plan) + [f"set {FE}/max-request-segments 4000000000", "run be map_rings",
                                              f"stored be {mr.field}"])
    assert out[2] == "rc 0 "
    assert int(out[3]) <= 255


# --- the backend's request checks --------------------------------------------------------------

def status(line: str) -> int:
    return int(line.split()[1])


def check(harness, plan, cmds: list[str]) -> list[str]:
    return [ln for ln in run(harness, cmds) if ln.startswith("status")]


def test_valid_requests_pass(harness, plan):
    out = check(harness, plan, [
        "dev 0 1000 0 8 11", "rw 0 2 8 1:0:7 2:0:3",
        "bneg indirect_segments 1024", "dev 0 100000 0 8 1024", "indirect 1 600 0 2 0 7",
        "bneg discard 1", "discard 0 0 64"])
    assert [status(x) for x in out] == [0, 0, 0]
    assert "segs 2 sectors 12 sector 8" in out[0]
    assert "segs 600 sectors 4800" in out[1] and "copies 1" in out[1]


@pytest.mark.parametrize("cmd,why", [
    ("rw 0 0 0", "no segment for a read"),
    ("rw 1 12 0", "more than BLKIF_MAX_SEGMENTS_PER_REQUEST"),
    ("rw 0 1 0 1:5:4", "first_sect > last_sect"),
    ("rw 0 1 0 1:0:8", "last_sect beyond the page"),
    ("rw 0 1 996 1:0:7", "past the end of the device"),
    ("rw 0 1 18446744073709551615 1:0:7", "sector overflow"),
    ("indirect 0 600 0 2 0 7", "indirect_segments not offered"),
])
def test_hostile_requests_are_refused(harness, plan, cmd, why):
    out = check(harness, plan, ["dev 0 1000 0 8 11", cmd])
    assert status(out[0]) != plan.requests.status_ok and status(out[0]) in (-1, -2), why


def test_feature_gated_and_unknown_operations_are_not_supported(harness, plan):
    R = plan.requests
    ops = {o.constant: o for o in R.ops}
    cmds = ["dev 0 1000 0 8 11"]
    expect = []
    for o in R.ops:
        if o.negotiation:
            cmds.append(f"raw {o.value}")       # not offered: EOPNOTSUPP
            expect.append(-2)
        elif o.kind == "unsupported":
            cmds.append(f"raw {o.value}")
            expect.append(-2)
    cmds.append("raw 250")                       # not an operation of the spec
    expect.append(-2)
    out = check(harness, plan, cmds)
    assert [status(x) for x in out] == expect
    assert ops["BLKIF_OP_DISCARD"].negotiation


def test_indirect_requests_are_checked_like_direct_ones(harness, plan):
    pages = plan.requests.max_indirect_pages.value
    per = plan.requests.segments_per_indirect_page
    out = check(harness, plan, [
        "bneg indirect_segments 4096", f"dev 0 100000000 0 8 {pages * per + per}",
        f"indirect 0 {pages * per + 1} 0 {pages} 0 7",    # needs one page more than allowed
        "indirect 5 8 0 1 0 7",                            # an inner op that is not read or write
        "indirect 0 8 0 1 7 1",                            # copied segments with first > last
        "indirect 0 8 0 0 0 7",                            # a page the frontend did not grant
        "indirect 0 0 0 1 0 7"])                           # no segment at all
    assert [status(x) for x in out] == [-1, -1, -1, -1, -1]


def test_writes_to_a_read_only_device_and_discard_flags(harness, plan):
    out = check(harness, plan, [
        "dev 1 1000 0 8 11", "rw 1 1 0 1:0:7", "rw 0 1 0 1:0:7",
        "dev 0 1000 0 8 11", "bneg discard 1", "discard 2 0 8", "discard 1 0 8", "secure 1", "discard 1 0 8",
        "dev 0 1000 7 8 11", "rw 0 1 1 1:0:7"])   # not aligned to a 4096-byte block
    assert [status(x) for x in out] == [-1, 0, -1, -1, 0, -1]
