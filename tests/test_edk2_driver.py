"""The generated EDK2 XenPvBlkDxe-style frontend: compiled, and what the code covers.

The driver is rendered from the spec into a temporary tree and built with
clang and the flags of EDK2's CLANG X64 and IA32 builds against the contract
(the same build as `xendrvgen compile --os edk2`), warnings as errors.  What
it must cover (the backend's states, the frontend's XenStore nodes, the
hooks) is derived from the spec and xendrvgen's plan.  EDK2 has no backend.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen import compile as xcompile
from xendrvgen.compile import edk2 as edk2_compile

import drivercov as dc

OS = "edk2"
FRONT = ["XenPvBlkDxe.c", "XenPvBlkXenStore.h"]

gen, built = dc.module_fixtures(OS, "EDK2")


# --- the build ------------------------------------------------------------------

def test_the_driver_builds_for_x64_and_ia32_with_zero_warnings(built):
    got = sorted((Path(a).parent.name, Path(a).name) for a in built.artifacts)
    assert got == sorted((arch, "XenPvBlkDxe.o") for arch in edk2_compile.TARGETS)
    assert built.warnings == [] and built.errors == []
    assert "-Werror" in built.command


def test_a_warning_fails_the_build(gen, tmp_path):
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / OS / "XenPvBlkDxe.c"
    f.write_text(f.read_text() + "\nstatic int XdgNeverUsed (void) { return 0; }\n")
    res = xcompile.build(OS, copy, work_dir=tmp_path / "work", use_cache=False)
    assert not res.ok
    assert any("XdgNeverUsed" in line for line in res.errors + res.warnings), res.log


def test_the_inf_describes_the_driver(gen):
    inf = (gen / OS / "XenPvBlkDxe.inf").read_text()
    code = dc.code_of(gen, OS, FRONT)
    entry = re.search(r"^\s*ENTRY_POINT\s*=\s*(\w+)$", inf, flags=re.M).group(1)
    assert re.search(rf"^{entry} \(", code, flags=re.M)
    assert re.search(r"^\s*MODULE_TYPE\s*=\s*UEFI_DRIVER$", inf, flags=re.M)
    assert re.search(r"^\s*FILE_GUID\s*=\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", inf,
                     flags=re.M)
    sources = re.search(r"\[Sources\]\n((?:  \S+\n)+)", inf).group(1).split()
    assert sorted(sources) == sorted(FRONT)
    for section, names in (("Packages", ["MdePkg/MdePkg.dec", "OvmfPkg/OvmfPkg.dec"]),
                           ("Protocols", ["gEfiDriverBindingProtocolGuid", "gEfiBlockIoProtocolGuid",
                                          "gXenBusProtocolGuid"])):
        block = inf[inf.index(f"[{section}]"):]
        for name in names:
            assert name in block.split("\n[")[0], (section, name)


# --- the UEFI driver model, XENBUS_PROTOCOL, Block I/O ---------------------------------

def test_a_driver_binding_that_produces_block_io(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    assert re.search(r"EFI_DRIVER_BINDING_PROTOCOL\s+gXdgBlkDriverBinding = \{\n\s+XdgBlkSupported,\n"
                     r"\s+XdgBlkStart,\n\s+XdgBlkStop,", code)
    assert f'XdgStrEq (XenBus->Type, "{plan.device_type}")' in code
    assert "EfiLibInstallDriverBinding (ImageHandle, SystemTable, &gXdgBlkDriverBinding, ImageHandle)" in code
    assert "InstallMultipleProtocolInterfaces (&Dev->Controller, &gEfiBlockIoProtocolGuid, &Dev->BlockIo, NULL)" \
        in code
    for member in ("Reset", "ReadBlocks", "WriteBlocks", "FlushBlocks"):
        assert re.search(rf"Dev->BlockIo\.{member}\s+= XdgBlk{member};", code), member
    for api in ("XsRead (", "XsBackendRead (", "XsPrintf (", "XsTransactionStart (", "XsTransactionEnd (",
                "SetState (", "GrantAccess (", "GrantEndAccess (", "EventChannelAllocate (",
                "EventChannelNotify (", "RegisterWatchBackend (", "WaitForWatch (", "MemoryFence ()",
                "AllocatePages ("):
        assert api in code, api


def test_polled_no_interrupts_no_locks(gen):
    code = dc.code_of(gen, OS, FRONT)
    for absent in ("RaiseTPL", "EFI_LOCK", "SetTimer", "WaitForEvent"):
        assert absent not in code
    # The one event: ExitBootServices, to hand the device back before the OS takes over.
    assert re.findall(r"CreateEvent \((\w+), (\w+), (\w+),", code) == [
        ("EVT_SIGNAL_EXIT_BOOT_SERVICES", "TPL_NOTIFY", "XdgBlkExitBoot")]
    submit = dc.function_body(code, "XdgSubmit")
    assert "for ( ; ;)" in submit and "MemoryFence ();" in submit


# --- what the code covers, derived from the spec --------------------------------------

def test_state_handler_covers_every_state_of_the_backend(gen, spec):
    body = dc.function_body(dc.code_of(gen, OS, FRONT), "XdgBlkBackendChanged")
    cases = dc.switch_cases(body, "    ", "        ")
    assert set(cases) == {s.name for s in spec.states}
    assert {o: set(owns) for o, owns in cases.items()} == dc.expected_reactions(spec, "frontend")


def test_start_follows_the_backend_until_connected(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    start = dc.function_body(code, "XdgBlkStart")
    assert "XdgBlkProbe (Dev)" in start and "XdgBlkBackendChanged (Dev, BackendState)" in start
    assert "Dev->State == XenbusStateConnected" in start and "WaitForWatch (XenBus, Watch)" in start


def test_stop_and_exit_boot_services_raise_the_plans_events(gen, plan):
    """Which events firmware raises and from where; what they do is run in
    tests/test_edk2_lifecycle.py."""
    code = dc.code_of(gen, OS, FRONT)
    M = plan.frontend.machine
    for ev in ("disk_released", "shutdown", "handover"):
        body = dc.function_body(code, "XdgBlkOn" + "".join(w.capitalize() for w in ev.split("_")))
        cases = set(re.findall(r"^    case XenbusState(\w+):", body, flags=re.M))
        assert cases == {own for owns, _ in M.event(ev).groups() for own in owns}, ev
    for ev in ("resume", "removed"):     # never raised by boot firmware: not rendered (-Werror)
        assert "XdgBlkOn" + ev.capitalize() + " (" not in code
    shutdown = dc.function_body(code, "XdgBlkShutdown")
    order = [shutdown.index(f) for f in ("XdgBlkOnShutdown (Dev)", "XdgBlkWaitBackendClosed (Dev)",
                                         "XdgBlkOnHandover (Dev)")]
    assert order == sorted(order)
    stop = dc.function_body(code, "XdgBlkStop")
    assert stop.index("XdgBlkShutdown (Dev);") < stop.index("XdgBlkFreeDev (Dev);")
    exit_boot = dc.function_body(code, "XdgBlkExitBoot")
    assert exit_boot.index("mXdgBootServicesGone = TRUE;") < exit_boot.index("XdgBlkShutdown (")
    assert "XdgBlkFreeDev" not in exit_boot


def test_driver_touches_every_node_of_the_frontend(gen, spec):
    code = dc.code_of(gen, OS, FRONT)
    assert dc.missing_node_macros(spec, "frontend", code) == []
    assert not re.search(r'"(ring-ref|event-channel|feature-[a-z-]+|sector-size|sectors)"', code)


def test_reads_use_the_spec_default_and_bounds(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    for use in plan.frontend.reads:
        if use.shape == "scalar" and use.type in ("bool", "uint32", "uint64", "bitmap") and use.default \
                and use.default.kind == "int":
            assert re.search(rf"XdgReadUint \(XenBus, (Own|Peer), {use.macro}, {use.default.value}, ", code), \
                use.name


def test_every_hook_is_marked_in_the_code_and_documented(gen, plan):
    text = "\n".join((gen / OS / f).read_text() for f in FRONT)
    docs = dc.features_section("EDK2")
    assert dc.hooks_marked(text) == {h.id for h in plan.frontend.hooks}
    for h in plan.frontend.hooks:
        assert f"`{h.id}`" in docs, h.id


def test_one_page_ring_is_ring_ref_and_ring_order_nodes_only_when_not_the_default(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    T, FE = plan.transport, plan.frontend
    ring = dc.function_body(code, "XdgBlkWriteRing")
    single, multi = ring.split("} else {", 1)
    assert "if (order == 0) {" in single
    assert FE.write(T.ring_ref).macro in single and FE.write(T.ring_ref_pattern).macro not in single
    assert FE.write(T.ring_ref_pattern).macro in multi.split(FE.write(T.event_channel).macro)[0]
    transport = dc.function_body(code, "XdgBlkWriteTransport")
    assert "XdgBlkWriteRing (XenBus, Xbt, Own, Prefix, Dev->Neg.ring_page_order," in transport
    for n in FE.writes:
        if n.condition == "differs_from_default":
            assert re.search(rf"if \(Dev->Xs\.{n.field} != {n.default.value}\) {{\n\s+Status = XdgWriteUint "
                             rf"\(XenBus, Xbt, Own, {n.macro}, Dev->Xs\.{n.field}\);", transport), n.name


def test_frontend_checks_what_the_backend_answers(gen):
    submit = dc.function_body(dc.code_of(gen, OS, FRONT), "XdgSubmit")
    assert "CopyMem (&Rsp, RING_GET_RESPONSE (&Ring->Ring, Ring->Ring.rsp_cons), sizeof (Rsp));" in submit
    assert "Rsp.id != Dev->NextId - 1" in submit
    assert "Rp - Ring->Ring.rsp_cons > RING_SIZE (&Ring->Ring)" in submit


def test_a_spec_with_one_more_feature_node_renders_a_driver_that_reads_it_and_builds(tmp_path):
    gen = dc.render(OS, dc.spec_with_extra_node(tmp_path), tmp_path / "gen")
    code = dc.code_of(gen, OS, FRONT)
    assert re.search(r"XdgReadUint \(XenBus, Peer, BLKIF_NODE_BE_FEATURE_XDG_PROBE, 0, ", code)
    res = xcompile.build(OS, gen, work_dir=tmp_path / "work", use_cache=False)
    assert res.ok and not res.warnings, res.log


def test_compile_command_builds_the_committed_tree(tmp_path):
    """`xendrvgen compile --os edk2` on generated/, as CI runs it."""
    r = subprocess.run([sys.executable, "-m", "xendrvgen.cli", "compile", "--os", OS, "--work", str(tmp_path)],
                       cwd=dc.ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    for arch in edk2_compile.TARGETS:
        assert f"{arch}/XenPvBlkDxe.o" in r.stdout


@pytest.mark.skipif(not __import__("os").environ.get("XENDRVGEN_EDK2_TREE"),
                    reason="set XENDRVGEN_EDK2_TREE to an edk2 checkout")
def test_the_driver_builds_against_a_real_edk2_tree(gen, tmp_path):
    import os
    res = xcompile.build(OS, gen, tree=os.environ["XENDRVGEN_EDK2_TREE"], work_dir=tmp_path / "work",
                         use_cache=False)
    assert res.ok and not res.warnings, res.log
