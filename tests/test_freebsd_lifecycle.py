"""The lifecycle edges of the generated FreeBSD drivers, simulated on the host.

The generated xbb.c and xbd.c are compiled whole with the host's gcc, with
AddressSanitizer and UBSan, against a user-space stand-in for the kernel
primitives they use (tests/harness/freebsd_sim/: real mutexes that panic on
destroying a lock never initialised, taskqueue and GEOM completion threads,
grant mappings that leave nothing behind when undone, a XenStore in memory).
Scenario programs then play the other end: a frontend for xbb
(xbb_main.c), a backend and GEOM's users for xbd (xbd_main.c), and check
what the driver does at start (the hotplug script runs only once the backend
is in InitWait), on close, toolstack close, teardown with I/O in flight,
a malformed frontend, a weak memory order, 4Kn disks, suspend and resume.

XDG_FREEBSD_SIM_TREE=<dir> runs the same scenarios against another
generated tree (e.g. `git show HEAD:generated/freebsd/...` extracted into
<dir>/freebsd), to see them fail on the drivers before issue 8.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xendrvgen.compile import _cbuild

import drivercov as dc

SIM = Path(__file__).resolve().parent / "harness" / "freebsd_sim"
CONTRACT = dc.ROOT / "contracts" / "freebsd" / "include"
FLAGS = ["-std=gnu11", "-g", "-O1", "-pthread", "-fno-omit-frame-pointer",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
         "-Wall", "-Wno-unused-function", "-Wno-unused-variable", "-Wno-maybe-uninitialized", "-Werror"]


def _kernel_headers(sources: list[Path]) -> set[str]:
    """The <...> headers the drivers include, other than the protocol's own."""
    out = set()
    for src in sources:
        out.update(h for h in re.findall(r"^#include <([^>]+)>", src.read_text(), flags=re.M)
                   if not h.startswith("contrib/") and h != "sys/queue.h")
    return out | {"xenbus_if.h"}


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("no host gcc (apt-get install gcc)")
    tmp = tmp_path_factory.mktemp("fbsdsim")
    probe = tmp / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    if subprocess.run([cc, "-fsanitize=address,undefined", str(probe), "-o", str(tmp / "probe")],
                      capture_output=True).returncode != 0:
        pytest.skip("gcc cannot build with AddressSanitizer here (apt-get install libasan8 libubsan1)")
    tree = os.environ.get("XDG_FREEBSD_SIM_TREE")
    gen = Path(tree) if tree else dc.render("freebsd", dc.SPEC, tmp / "gen")
    drivers = {"xbb": gen / "freebsd" / "xbb.c", "xbd": gen / "freebsd" / "xbd.c"}
    shim = tmp / "shim"
    for h in _kernel_headers(list(drivers.values())):
        (shim / h).parent.mkdir(parents=True, exist_ok=True)
        (shim / h).write_text(f'#include "{SIM / "kern.h"}"\n')
    incs = ["-I", str(shim), "-I", str(SIM), "-I", str(gen / "freebsd"), "-I", str(gen / "freebsd" / "sys"),
            "-I", str(CONTRACT / "contrib" / "xen" / "io"), "-I", str(CONTRACT),
            "-idirafter", str(_cbuild.xen_public_include(tmp))]
    kern = tmp / "kern.o"
    r = subprocess.run([cc, *FLAGS, *incs, "-c", str(SIM / "kern.c"), "-o", str(kern)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = {}
    for name in drivers:
        exe = tmp / f"{name}_sim"
        r = subprocess.run([cc, *FLAGS, *incs, str(SIM / f"{name}_main.c"), str(kern), "-o", str(exe)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out[name] = exe
    return out


def run(exe: Path, scenario: str) -> None:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1")
    r = subprocess.run([str(exe), scenario], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), \
        f"{scenario}: exit {r.returncode}\n{r.stdout}\n{r.stderr[-6000:]}"


# --- the backend (xbb) ------------------------------------------------------------------
# The simulated toolstack behaves as libxl: it runs the hotplug script that writes
# physical-device-path only once the backend is in InitWait.

def test_backend_goes_initwait_before_the_hotplug_script_and_opens_the_store_after_it(sims):
    run(sims["xbb"], "initwait_before_hotplug")


def test_backend_connects_a_frontend_initialised_before_the_backing_store_once_it_is_ready(sims):
    run(sims["xbb"], "frontend_before_backing")


def test_backend_opens_a_store_whose_hotplug_script_ran_while_it_was_closed(sims):
    run(sims["xbb"], "hotplug_while_closed")


def test_backend_keeps_serving_a_closing_frontend_and_unmaps_when_it_is_closed(sims):
    run(sims["xbb"], "close_keeps_serving")


def test_backend_raises_toolstack_close_from_online_and_state(sims):
    run(sims["xbb"], "toolstack_close")


def test_backend_teardown_answers_in_flight_io_before_unmapping_and_no_completion_outlives_the_ring(sims):
    run(sims["xbb"], "teardown_race")


def test_backend_survives_a_frontend_with_a_missing_queue_without_destroying_an_uninitialised_lock(sims):
    run(sims["xbb"], "malformed_queues")


def test_backend_reads_requests_only_after_a_barrier_that_follows_the_producer_index(sims):
    run(sims["xbb"], "req_prod_barrier")


def test_backend_on_4kn_publishes_the_block_size_as_sector_size_and_sectors_in_512_byte_units(sims):
    run(sims["xbb"], "publish_4k")


def test_backend_on_4kn_serves_aligned_requests_whose_blocks_span_two_segments(sims):
    run(sims["xbb"], "io_4k")


def test_backend_answers_an_indirect_request_with_its_inner_operation(sims):
    run(sims["xbb"], "indirect_names_inner_op")


# --- the frontend (xbd) -----------------------------------------------------------------

def test_frontend_keeps_an_open_disk_working_through_closing_and_closes_on_its_last_close(sims):
    run(sims["xbd"], "close_open_disk")


def test_frontend_closes_an_unused_disk_at_once_but_revokes_grants_only_when_the_backend_is_closed(sims):
    run(sims["xbd"], "close_idle_disk")


@pytest.mark.parametrize("scenario", ["resume_keeps_the_disk", "resume_untrusted"])
def test_frontend_resume_keeps_the_disk_and_resends_in_flight_io_to_the_new_backend(sims, scenario):
    run(sims["xbd"], scenario)


def test_frontend_cancelled_suspend_goes_on_with_the_old_connection(sims):
    run(sims["xbd"], "suspend_cancelled")


def test_frontend_removed_while_open_fails_in_flight_io_and_keeps_a_page_the_backend_still_maps(sims):
    run(sims["xbd"], "removed_while_open")
