"""The generated FreeBSD xbd(4)/xbb pair: cross-compiled, and what the code covers.

The drivers are rendered from the spec into a temporary tree and built with
zig cc for amd64 and i386 against FreeBSD's headers and the contract (the
same build as `xendrvgen compile --os freebsd`), warnings as errors.  What
they must cover (the other end's states, the XenStore nodes of each side, the
request checks, the hooks) is derived from the spec and xendrvgen's plan.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen import compile as xcompile
from xendrvgen.compile import freebsd as freebsd_compile

import drivercov as dc

OS = "freebsd"
FRONT = ["xbd.c", "xdg_xenbus.h"]
BACK = ["xbb.c", "xdg_xenbus.h"]




gen, built = dc.module_fixtures(OS, "FreeBSD")


# --- the build ------------------------------------------------------------------

def test_both_drivers_build_on_every_target_with_zero_warnings(built):
    got = sorted((Path(a).parent.name, Path(a).name) for a in built.artifacts)
    assert got == sorted((t, f"{m}.o") for t in freebsd_compile.TARGETS for m in ("xbb", "xbd"))
    assert built.warnings == [] and built.errors == []
    assert "-Werror" in built.command


def test_the_module_makefiles_build_both_modules(gen):
    top = (gen / OS / "Makefile").read_text()
    assert re.search(r"^SUBDIR=\s+modules/xbd modules/xbb$", top, flags=re.M)
    assert ".include <bsd.subdir.mk>" in top
    for mod in ("xbd", "xbb"):
        mk = (gen / OS / "modules" / mod / "Makefile").read_text()
        assert re.search(rf"^KMOD=\s+{mod}$", mk, flags=re.M)
        assert re.search(rf"^SRCS=\s+{mod}\.c device_if\.h bus_if\.h xenbus_if\.h$", mk, flags=re.M)
        assert (gen / OS / "modules" / mod / "../.." / f"{mod}.c").resolve().is_file()
        assert "-I${.CURDIR}/../../sys" in mk and ".include <bsd.kmod.mk>" in mk


def test_a_warning_fails_the_build(gen, tmp_path):
    import shutil
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / OS / "xbd.c"
    f.write_text(f.read_text() + "\nstatic int xdg_never_used(void) { return 0; }\n")
    res = xcompile.build(OS, copy, work_dir=tmp_path / "work", use_cache=False)
    assert not res.ok
    assert any("xdg_never_used" in line for line in res.errors + res.warnings), res.log


# --- newbus, disk(9), bus_dma, the Xen kernel API -----------------------------------

def test_frontend_is_a_newbus_driver_on_the_xenbus_front_bus(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    assert "DRIVER_MODULE(xbd, xenbusb_front, xbd_driver, 0, 0);" in code
    for method in ("device_probe", "device_attach", "device_detach", "device_suspend", "device_resume",
                   "xenbus_otherend_changed"):
        assert re.search(rf"DEVMETHOD\({method},\s+xbd_\w+\)", code), method
    assert f'strcmp(xenbus_get_type(dev), "{plan.device_type}")' in code
    for api in ("disk_alloc()", "disk_create(disk, DISK_VERSION)", "disk_destroy(", "bus_dma_tag_create(",
                "bus_dmamap_load_bio(", "xen_intr_alloc_and_bind_local_port(", "xen_intr_signal(",
                "gnttab_grant_foreign_access(", "gnttab_end_foreign_access_ref(", "xenbus_grant_ring(",
                "xs_transaction_start(", "xs_transaction_end(", "xs_read(", "xs_write("):
        assert api in code, api


def test_backend_is_a_newbus_driver_on_the_xenbus_back_bus(gen, plan):
    code = dc.code_of(gen, OS, BACK)
    assert "DRIVER_MODULE(xbb, xenbusb_back, xbb_driver, 0, 0);" in code
    assert re.search(r"DEVMETHOD\(xenbus_otherend_changed,\s+xbb_frontend_changed\)", code)
    assert re.search(r"DEVMETHOD\(xenbus_localend_changed,\s+xbb_localend_changed\)", code)
    for api in ("xen_intr_bind_remote_port(", "GNTTABOP_map_grant_ref", "GNTTABOP_unmap_grant_ref",
                "xenmem_alloc(", "g_io_request(", "DECLARE_GEOM_CLASS("):
        assert api in code, api


# --- what the code covers, derived from the spec --------------------------------------

@pytest.mark.parametrize("side,files,func", [("frontend", FRONT, "xbd_backend_changed"),
                                             ("backend", BACK, "xbb_frontend_changed")])
def test_state_handler_covers_every_state_of_the_other_end(gen, spec, side, files, func):
    body = dc.function_body(dc.code_of(gen, OS, files), func)
    cases = dc.switch_cases(body, "\t", "\t\t")
    assert set(cases) == {s.name for s in spec.states}
    expected = dc.expected_reactions(spec, side)
    assert {o: set(owns) for o, owns in cases.items()} == expected


@pytest.mark.parametrize("side,files", [("frontend", FRONT), ("backend", BACK)])
def test_driver_touches_every_node_of_its_side(gen, spec, side, files):
    code = dc.code_of(gen, OS, files)
    assert dc.missing_node_macros(spec, side, code) == []
    assert not re.search(r'"(ring-ref|event-channel|feature-[a-z-]+|sector-size|sectors)"', code)


def test_reads_use_the_spec_default_and_bounds(gen, plan):
    code = dc.code_of(gen, OS, ["xbd.c", "xbb.c"])
    for side in ("frontend", "backend"):
        for use in plan.side(side).reads:
            if use.shape == "scalar" and use.type in ("bool", "uint32", "uint64", "bitmap") and use.default \
                    and use.default.kind == "int":
                assert re.search(rf"xdg_read_uint\(dev, (own|peer), {use.macro}, {use.default.value}, ", code), \
                    use.name
            if use.shape == "scalar" and use.on_range == "reject":
                assert re.search(rf"return \(xdg_fail_range\(dev, peer, {use.macro},", code), use.name


@pytest.mark.parametrize("side,files", [("frontend", ["xbd.c"]), ("backend", ["xbb.c"])])
def test_every_hook_is_marked_in_the_code_and_documented(gen, plan, side, files):
    text = "\n".join((gen / OS / f).read_text() for f in files)
    docs = dc.features_section("FreeBSD")
    assert dc.hooks_marked(text) == {h.id for h in plan.side(side).hooks}
    for h in plan.side(side).hooks:
        assert f"`{h.id}`" in docs, h.id


def test_one_page_ring_is_ring_ref_and_ring_order_nodes_only_when_not_the_default(gen, plan):
    """The spec's way, where FreeBSD's own driver differed (ring-ref0 and
    num-ring-pages = 1 for a one-page ring broke some XenServer backends)."""
    code = dc.code_of(gen, OS, FRONT)
    T, FE = plan.transport, plan.frontend
    ring = dc.function_body(code, "xbd_write_ring")
    single, multi = ring.split("} else {", 1)
    assert "if (order == 0) {" in single
    assert FE.write(T.ring_ref).macro in single and FE.write(T.ring_ref_pattern).macro not in single
    assert FE.write(T.ring_ref_pattern).macro in multi.split(FE.write(T.event_channel).macro)[0]
    transport = dc.function_body(code, "xbd_write_transport")
    assert "xbd_write_ring(dev, xbt, own, prefix, sc->neg.ring_page_order," in transport
    for n in FE.writes:
        if n.condition == "differs_from_default":
            assert re.search(rf"if \(sc->xs\.{n.field} != {n.default.value}\) {{\n\t\terror = xdg_write_uint"
                             rf"\(dev, xbt, own, {n.macro}, sc->xs\.{n.field}\);", transport), n.name


def test_backend_applies_every_request_check_of_the_plan(gen, plan):
    text = (gen / OS / "xbb.c").read_text()
    check = text[text.index("\nxbb_check_request("):]
    check = check[:check.index("\n}\n")]
    blocks = dc.check_blocks(check, plan.requests.ops, "\t")
    for o in plan.requests.ops:
        for c in o.checks:
            assert f"check {c.id}:" in blocks[o.constant], (o.constant, c.id)
    assert "#error" not in text
    # ... and every request goes through it, with the device's limits.
    dispatch = dc.function_body(dc.strip_comments(text), "xbb_dispatch")
    assert "xbb_check_request(r, &req->q, &sc->xs, &sc->neg, &dev, xbb_copy_indirect, req)" in dispatch


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
    native = dc.function_body(code, "xbb_put_native_rsp")
    assert "bzero(buf, sizeof(buf));" in native and "memcpy(slot, buf, sizeof(buf));" in native
    for v in {p.variant for p in plan.transport.protocols if p.variant}:
        assert f"blkif_put_{v}_rsp(RING_GET_RESPONSE(" in code


def test_frontend_checks_what_the_backend_answers(gen):
    code = dc.code_of(gen, OS, FRONT)
    intr = dc.function_body(code, "xbd_intr")
    assert "memcpy(&rsp, RING_GET_RESPONSE(&ring->ring, i), sizeof(rsp));" in intr
    assert "rsp.id >= sc->ring_slots" in intr and "rsp.operation != cmd->operation" in intr
    assert "rp - ring->ring.rsp_cons > RING_SIZE(&ring->ring)" in intr


def test_a_spec_with_one_more_feature_node_renders_drivers_that_use_it_and_build(tmp_path):
    gen = dc.render(OS, dc.spec_with_extra_node(tmp_path), tmp_path / "gen")
    front = dc.code_of(gen, OS, ["xbd.c"])
    back = dc.code_of(gen, OS, ["xbb.c"])
    assert re.search(r"xdg_read_uint\(dev, peer, BLKIF_NODE_BE_FEATURE_XDG_PROBE, 0, ", front)
    assert re.search(r"xdg_write_uint\(dev, xbt, own, BLKIF_NODE_BE_FEATURE_XDG_PROBE, ", back)
    res = xcompile.build(OS, gen, work_dir=tmp_path / "work", use_cache=False)
    assert res.ok and not res.warnings, res.log


def test_compile_command_builds_the_committed_tree(tmp_path):
    """`xendrvgen compile --os freebsd` on generated/, as CI runs it."""
    r = subprocess.run([sys.executable, "-m", "xendrvgen.cli", "compile", "--os", OS, "--work", str(tmp_path)],
                       cwd=dc.ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    for t in freebsd_compile.TARGETS:
        assert f"{t}/xbd.o" in r.stdout and f"{t}/xbb.o" in r.stdout


def test_backend_waits_for_the_hotplug_script_rather_than_failing(gen):
    """Until the hotplug script names the backing store, neither node of the
    pair exists: that is a wait (EAGAIN, back on xenbus_localend_changed), not
    a fatal error."""
    body = dc.function_body(dc.code_of(gen, OS, ["xbb.c"]), "xbb_open_backing")
    assert "xdg_fail_neither" not in body
    assert re.search(r"if \(!sc->xs\.present\.be_physical_device && !sc->xs\.present\.be_physical_device_path\) "
                     r"\{\s*return \(EAGAIN\);", body)
