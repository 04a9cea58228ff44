"""The EDK2 frontend's lifecycle, run: DriverBindingStop, ExitBootServices, 4Kn disks.

The generated XenPvBlkDxe.c is built for the host (gcc, AddressSanitizer and
UBSan) against the EDK2 contract and linked with tests/harness/edk2_uefi_sim.c:
boot services, OVMF's XENBUS_PROTOCOL over an in-memory XenStore, a grant
table that knows which grants the backend maps (and, as OVMF's, refuses to
end one in use), and a backend that follows the protocol's close rule (it
mirrors Closing and keeps serving, and lets go of the ring only once the
frontend is Closed) serving a RAM disk.  What is asserted is what a real
backend and the OS that boots next would see.

XENDRVGEN_EDK2_SIM_GEN names another generated tree to run instead of a fresh
render (e.g. one rendered from an older template, to see these tests fail).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from xendrvgen.compile import _cbuild

import drivercov as dc

SIM = Path(__file__).resolve().parent / "harness" / "edk2_uefi_sim.c"
CONTRACT = dc.ROOT / "contracts" / "edk2" / "include"
EFI_INVALID_PARAMETER = 0x8000000000000002
EFI_SUCCESS = 0
EFI_NOT_FOUND = 0x800000000000000E
CLOSE_WAIT_US = 5000 * 1000          # mXdgCloseWaitMs
INITIALISING, INITWAIT, CONNECTED, CLOSED = 1, 2, 4, 6


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("no host gcc (apt-get install gcc)")
    tmp = tmp_path_factory.mktemp("edk2sim")
    gen = Path(os.environ["XENDRVGEN_EDK2_SIM_GEN"]) if os.environ.get("XENDRVGEN_EDK2_SIM_GEN") \
        else dc.render("edk2", dc.SPEC, tmp / "gen")
    inc = ["-I", str(gen / "edk2" / "OvmfPkg" / "Include"), "-I", str(CONTRACT),
           "-I", str(CONTRACT / "IndustryStandard" / "Xen" / "io"),
           # the contract ring.h includes Xen's installed <xen-public/io/ring.h>
           "-idirafter", str(_cbuild.xen_public_include(tmp))]
    exe = tmp / "sim"
    r = subprocess.run([cc, "-std=gnu11", "-Wall", "-Werror", "-Wno-unused-parameter", "-g", "-O1",
                        "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                        *inc, str(gen / "edk2" / "XenPvBlkDxe.c"), str(SIM), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def run(sim: Path, scenario: str, **opts) -> dict:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    r = subprocess.run([str(sim), scenario, *(f"{k}={v}" for k, v in opts.items())], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode in (0, 3), f"the simulation failed ({r.returncode}):\n{r.stdout}\n{r.stderr[-4000:]}"
    out: dict = {"violations": [], "stderr": r.stderr}
    for line in r.stdout.splitlines():
        if line.startswith("violation: "):
            out["violations"].append(line[len("violation: "):])
        elif "=" in line:
            k, val = line.split("=", 1)
            try:
                out[k] = int(val, 0)
            except ValueError:
                out[k] = val
    return out


def handed_back(o: dict) -> None:
    """What the OS that boots next must find: nothing of ours granted, the
    device in Initialising and the backend offering its features again."""
    assert o["hang"] == 0, "the driver waited for ever"
    assert o["violations"] == [], o["violations"]
    assert o["end_while_mapped"] == 0 and o["end_unknown"] == 0
    assert o["free_granted"] == 0 and o["free_mapped"] == 0 and o["bad_free"] == 0
    assert o["active_grants"] == 0, "grants left active for the next owner of the memory"
    assert o["fe_state"] == INITIALISING, f"left in state {o['fe_state']} ({o['fe_history']})"
    assert o["fe_history"].endswith(f"{CLOSED},{INITIALISING}"), o["fe_history"]
    assert o["be_state"] == INITWAIT


@pytest.mark.parametrize("persistent", [0, 1])
def test_driver_binding_stop_revokes_grants_only_once_the_backend_let_go(sim, persistent):
    """Stop: Closed, wait for the backend's Closed (its reaction revokes the
    grants), then Initialising, then free.  The ring, and with persistent
    grants the data pages, stay mapped by the backend until it is Closed."""
    o = run(sim, "stop", persistent=persistent, delay=5)
    assert o["start"] == EFI_SUCCESS and o["io_readback"] == 1 and o["stop"] == EFI_SUCCESS
    assert o["mapped_before"] > 0 and (o["kept_before"] > 0) == bool(persistent)
    handed_back(o)


def test_exit_boot_services_after_stop_finds_nothing_of_the_freed_device(sim):
    """Stop closed the device's ExitBootServices event with the device: the
    notification never runs on freed memory (AddressSanitizer would say)."""
    o = run(sim, "stop-ebs")
    assert o["stop"] == EFI_SUCCESS
    handed_back(o)
    assert o["ebs_mem"] == 0 and o["active_at_ebs_end"] == 0


@pytest.mark.parametrize("bus", [1, 0], ids=["ovmf-xenbus-disconnects", "no-bus-disconnect"])
@pytest.mark.parametrize("persistent", [0, 1])
def test_exit_boot_services_leaves_no_grant_for_the_os(sim, bus, persistent):
    """ExitBootServices: the same hand-over inside the notification, with no
    memory service; whether or not OVMF's XenBus driver then disconnects the
    device (its own notification, at a lower TPL), no memory the OS gets is
    still granted."""
    o = run(sim, "ebs", persistent=persistent, bus=bus, delay=5)
    assert o["start"] == EFI_SUCCESS and o["io_readback"] == 1
    assert o["mapped_before"] > 0 and (o["kept_before"] > 0) == bool(persistent)
    handed_back(o)
    assert o["ebs_mem"] == 0
    assert o["active_at_ebs_end"] == 0


def test_a_start_that_fails_once_connected_hands_the_device_back_too(sim):
    """The backend mapped the ring and connected without publishing the disk's
    size: Start fails, through the same hand-over."""
    o = run(sim, "stop", nosectors=1, delay=5)
    assert o["start"] == EFI_NOT_FOUND
    assert "sectors is missing" in o["log"]
    handed_back(o)


@pytest.mark.parametrize("scenario", ["stop", "ebs"])
def test_the_wait_for_a_backend_that_never_closes_is_bounded(sim, scenario):
    """A backend that stops answering: the driver gives up after the bound,
    says so, and neither revokes nor frees what the backend may still map."""
    o = run(sim, scenario, dead=1)
    assert o["hang"] == 0, "the driver waited for ever"
    assert CLOSE_WAIT_US <= o["waited_us"] <= CLOSE_WAIT_US + 10_000
    assert "did not close" in o["log"]
    assert o["end_while_mapped"] == 0 and o["free_granted"] == 0 and o["free_mapped"] == 0
    assert o["ebs_mem"] == 0
    assert o["fe_state"] == INITIALISING


@pytest.mark.parametrize("sector,sectors", [(4096, 8 * 64 + 3), (512, 2048)])
def test_logical_block_size_from_sector_size_and_sectors_in_512_byte_units(sim, sector, sectors):
    """A 4Kn disk (sector-size 4096, sectors in 512-byte units): 64 whole
    blocks; every request and every segment whole blocks at the right byte
    offset, on a backend that refuses anything else; a buffer that is not
    block aligned is refused (IoAlign), not split across blocks."""
    o = run(sim, "io4k", sector=sector, sectors=sectors, strict=1)
    for io in ("io", "big", "last"):
        assert (o[f"{io}_write"], o[f"{io}_read"]) == (EFI_SUCCESS, EFI_SUCCESS), io
        assert o[f"{io}_placed"] == 1 and o[f"{io}_readback"] == 1, io
    # A buffer 512 bytes past a block boundary: refused up front when blocks
    # are larger (IoAlign), never sent as segments of partial blocks.
    if sector > 512:
        assert o["skew_write"] == EFI_INVALID_PARAMETER, hex(o["skew_write"])
    else:
        assert o["skew_write"] == EFI_SUCCESS and o["skew_placed"] == 1
    assert o["past_end"] == EFI_INVALID_PARAMETER
    assert o["bad_segments"] == 0 and o["bad_requests"] == 0, o["violations"]
    assert o["block_size"] == sector and o["io_align"] == sector
    assert o["last_block"] == sectors * 512 // sector - 1 and o["media_present"] == 1
