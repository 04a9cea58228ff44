"""The generated NetBSD xbd(4)/xbdback pair: cross-compiled, and what the code covers.

The drivers are rendered from the spec into a temporary tree and built with
zig cc for amd64 against NetBSD's headers and the contract (the same build as
`xendrvgen compile --os netbsd`), warnings as errors.  What they must cover
(the other end's states, the XenStore nodes of each side, the request
checks, the hooks) is derived from the spec and xendrvgen's plan.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen import compile as xcompile
from xendrvgen.compile import netbsd as netbsd_compile

import drivercov as dc

OS = "netbsd"
FRONT = ["xbd_xenbus.c", "xdg_xenbus.h"]
BACK = ["xbdback_xenbus.c", "xdg_xenbus.h"]




gen, built = dc.module_fixtures(OS, "NetBSD")


# --- the build ------------------------------------------------------------------

def test_both_drivers_build_with_zero_warnings(built):
    got = sorted((Path(a).parent.name, Path(a).name) for a in built.artifacts)
    assert got == sorted((t, f"{m}.o") for t in netbsd_compile.TARGETS for m in ("xbd_xenbus", "xbdback_xenbus"))
    assert built.warnings == [] and built.errors == []
    assert "-Werror" in built.command and "-Wshadow" in built.command


def test_a_warning_fails_the_build(gen, tmp_path):
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / OS / "xbdback_xenbus.c"
    f.write_text(f.read_text() + "\nstatic int xdg_never_used(void) { return 0; }\n")
    res = xcompile.build(OS, copy, work_dir=tmp_path / "work", use_cache=False)
    assert not res.ok
    assert any("xdg_never_used" in line for line in res.errors + res.warnings), res.log


def test_config_fragment_names_both_drivers(gen):
    text = (gen / OS / "files.xendrvgen").read_text()
    assert re.search(r"^attach\s+xbd at xenbus$", text, flags=re.M)
    assert re.search(r"^file\s+arch/xen/xen/xbd_xenbus\.c\s+xbd$", text, flags=re.M)
    assert re.search(r"^file\s+arch/xen/xen/xbdback_xenbus\.c\s+xbdback$", text, flags=re.M)


# --- autoconf(9), dk(4), bus_dma, pmf, the Xen kernel API ------------------------------

def test_frontend_is_an_autoconf_driver_in_the_style_of_xbd_xenbus(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    assert re.search(r"CFATTACH_DECL3_NEW\(xbd, sizeof\(struct xbd_softc\), xbd_match, xbd_attach, "
                     r"xbd_detach,\s+NULL, NULL, NULL, DVF_DETACH_SHUTDOWN\);", code)
    assert f'strcmp(xa->xa_type, "{plan.device_type}")' in code
    assert "sc->sc_xbusd->xbusd_otherend_changed = xbd_backend_changed;" in code
    assert "pmf_device_register(self, xbd_suspend, xbd_resume)" in code
    for api in ("dk_init(", "dk_attach(", "dk_start(", "dk_done(", "dk_strategy(", "disk_init(",
                "disk_attach(", "bus_dmamap_create(", "bus_dmamap_load(", "xengnt_grant_access(",
                "xengnt_revoke_access(", "xengnt_status(", "xenbus_grant_ring(", "xenbus_alloc_evtchn(",
                "xen_intr_establish_xname(", "hypervisor_notify_via_evtchn(", "xenbus_switch_state(",
                "xenbus_transaction_start(", "xenbus_read(", "xenbus_write("):
        assert api in code, api
    assert ".d_diskstart = xbd_diskstart" in code and ".d_discard = xbd_discard" in code


def test_backend_is_a_xenbus_backend_in_the_style_of_xbdback(gen, plan):
    code = dc.code_of(gen, OS, BACK)
    assert "xenbus_backend_register(&xbdback_driver);" in code
    assert f'.xbakd_type = "{plan.device_type}"' in code
    assert "xbusd->xbusd_otherend_changed = xbdback_frontend_changed;" in code
    for api in ("xen_shm_map(", "xen_shm_unmap(", "EVTCHNOP_bind_interdomain", "xen_intr_establish_xname(",
                "hypervisor_notify_via_evtchn(", "bdev_open(", "bdev_strategy(", "workqueue_enqueue(",
                "register_xenbus_watch("):
        assert api in code, api


# --- what the code covers, derived from the spec --------------------------------------

@pytest.mark.parametrize("side,files,func", [("frontend", FRONT, "xbd_react"),
                                             ("backend", BACK, "xbdback_frontend_changed")])
def test_state_handler_covers_every_state_of_the_other_end(gen, spec, side, files, func):
    body = dc.function_body(dc.code_of(gen, OS, files), func)
    cases = dc.switch_cases(body, "\t", "\t\t")
    assert set(cases) == {s.name for s in spec.states}
    assert {o: set(owns) for o, owns in cases.items()} == dc.expected_reactions(spec, side)


@pytest.mark.parametrize("side,files", [("frontend", FRONT), ("backend", BACK)])
def test_driver_touches_every_node_of_its_side(gen, spec, side, files):
    code = dc.code_of(gen, OS, files)
    assert dc.missing_node_macros(spec, side, code) == []
    assert not re.search(r'"(ring-ref|event-channel|feature-[a-z-]+|sector-size|sectors)"', code)


def test_reads_use_the_spec_default_and_bounds(gen, plan):
    code = dc.code_of(gen, OS, ["xbd_xenbus.c", "xbdback_xenbus.c"])
    for side in ("frontend", "backend"):
        for use in plan.side(side).reads:
            if use.shape == "scalar" and use.type in ("bool", "uint32", "uint64", "bitmap") and use.default \
                    and use.default.kind == "int":
                assert re.search(rf"xdg_read_uint\(xbusd, (own|peer), {use.macro}, {use.default.value}, ", code), \
                    use.name
            if use.shape == "scalar" and use.on_range == "reject":
                assert re.search(rf"return xdg_fail_range\(xbusd, peer, {use.macro},", code), use.name


@pytest.mark.parametrize("side,files", [("frontend", ["xbd_xenbus.c"]), ("backend", ["xbdback_xenbus.c"])])
def test_every_hook_is_marked_in_the_code_and_documented(gen, plan, side, files):
    text = "\n".join((gen / OS / f).read_text() for f in files)
    docs = dc.features_section("NetBSD")
    assert dc.hooks_marked(text) == {h.id for h in plan.side(side).hooks}
    for h in plan.side(side).hooks:
        assert f"`{h.id}`" in docs, h.id


def test_one_page_ring_is_ring_ref_and_ring_order_nodes_only_when_not_the_default(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    T, FE = plan.transport, plan.frontend
    ring = dc.function_body(code, "xbd_write_ring")
    single, multi = ring.split("} else {", 1)
    assert "if (order == 0) {" in single
    assert FE.write(T.ring_ref).macro in single and FE.write(T.ring_ref_pattern).macro not in single
    assert FE.write(T.ring_ref_pattern).macro in multi.split(FE.write(T.event_channel).macro)[0]
    transport = dc.function_body(code, "xbd_write_transport")
    assert "xbd_write_ring(xbusd, xbt, own, prefix, sc->sc_neg.ring_page_order," in transport
    for n in FE.writes:
        if n.condition == "differs_from_default":
            assert re.search(rf"if \(sc->sc_xs\.{n.field} != {n.default.value}\) {{\n\t\terror = xdg_write_uint"
                             rf"\(xbusd, xbt, own, {n.macro}, sc->sc_xs\.{n.field}\);", transport), n.name


def test_backend_applies_every_request_check_of_the_plan(gen, plan):
    text = (gen / OS / "xbdback_xenbus.c").read_text()
    check = text[text.index("\nxbdback_check_request("):]
    check = check[:check.index("\n}\n")]
    blocks = dc.check_blocks(check, plan.requests.ops, "\t")
    for o in plan.requests.ops:
        for c in o.checks:
            assert f"check {c.id}:" in blocks[o.constant], (o.constant, c.id)
    assert "#error" not in text
    dispatch = dc.function_body(dc.strip_comments(text), "xbdback_dispatch")
    assert "xbdback_check_request(r, &req->q, &sc->xs, &sc->neg, &dev, xbdback_copy_indirect, req)" in dispatch


def test_backend_reads_each_ring_slot_once_and_translates_the_copy(gen, plan):
    code = dc.code_of(gen, OS, BACK)
    uses = re.findall(r"[^\n]*RING_GET_REQUEST\([^\n]*", code)
    assert uses and all(re.search(r"memcpy\((copy|&raw), RING_GET_REQUEST\(", u) for u in uses), uses
    assert not re.search(r"blkif_get_\w+_req\([^;]*RING_GET", code)
    for p in plan.transport.protocols:
        if p.variant:
            assert f"blkif_get_{p.variant}_req(copy, &raw);" in code
            assert f"xdg_str_eq(sc->xs.fe_protocol, {p.constant})" in code
    assert "rp - rsp_prod_pvt > size" in code


def test_backend_responses_write_every_byte(gen, plan):
    code = dc.code_of(gen, OS, BACK)
    native = dc.function_body(code, "xbdback_put_native_rsp")
    assert "memset0(buf, sizeof(buf));" in native and "memcpy(slot, buf, sizeof(buf));" in native
    for v in {p.variant for p in plan.transport.protocols if p.variant}:
        assert f"blkif_put_{v}_rsp(RING_GET_RESPONSE(" in code


def test_frontend_checks_what_the_backend_answers(gen):
    code = dc.code_of(gen, OS, FRONT)
    handler = dc.function_body(code, "xbd_take_responses")
    assert "memcpy(&rsp, RING_GET_RESPONSE(&ring->ring, i), sizeof(rsp));" in handler
    assert "rsp.id >= ring->nslots" in handler and "rsp.operation != req->operation" in handler
    assert "rp - ring->ring.rsp_cons > RING_SIZE(&ring->ring)" in handler


def test_a_spec_with_one_more_feature_node_renders_drivers_that_use_it_and_build(tmp_path):
    gen = dc.render(OS, dc.spec_with_extra_node(tmp_path), tmp_path / "gen")
    front = dc.code_of(gen, OS, ["xbd_xenbus.c"])
    back = dc.code_of(gen, OS, ["xbdback_xenbus.c"])
    assert re.search(r"xdg_read_uint\(xbusd, peer, BLKIF_NODE_BE_FEATURE_XDG_PROBE, 0, ", front)
    assert re.search(r"xdg_write_uint\(xbusd, xbt, own, BLKIF_NODE_BE_FEATURE_XDG_PROBE, ", back)
    res = xcompile.build(OS, gen, work_dir=tmp_path / "work", use_cache=False)
    assert res.ok and not res.warnings, res.log


def test_compile_command_builds_the_committed_tree(tmp_path):
    """`xendrvgen compile --os netbsd` on generated/, as CI runs it."""
    r = subprocess.run([sys.executable, "-m", "xendrvgen.cli", "compile", "--os", OS, "--work", str(tmp_path)],
                       cwd=dc.ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "xbd_xenbus.o" in r.stdout and "xbdback_xenbus.o" in r.stdout


def test_backend_waits_for_the_hotplug_script_rather_than_failing(gen):
    """Until the hotplug script names the backing store, neither node of the
    pair exists: that is a wait (EAGAIN, back on the watch), not a fatal error."""
    body = dc.function_body(dc.code_of(gen, OS, ["xbdback_xenbus.c"]), "xbdback_open_backing")
    assert "xdg_fail_neither" not in body
    assert re.search(r"if \(!sc->xs\.present\.be_physical_device && !sc->xs\.present\.be_physical_device_path\) "
                     r"\{\s*return EAGAIN;", body)
