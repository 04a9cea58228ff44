"""Lifecycle faults of the generated Linux drivers, run in a host-built logic harness.

The generated xen-blkfront.c and xen-blkback/{blkback,xenbus}.c are compiled
whole with the host's gcc, with AddressSanitizer and UBSan, against a
user-space stand-in for the Linux 6.1 primitives they use
(tests/harness/linux_sim/kern.h, kern.c): every kernel header they include
is, in this build, a one-line file that includes kern.h.  The stand-in keeps
the kernel's behaviour where these scenarios depend on it: pages with a
reference count and memory of their own, a grant table that will not take a
grant back while the peer maps it (and then keeps the page until the peer
lets go), grant mappings whose page has no frame behind it once unmapped
(poisoned for ASan), gnttab_unmap_refs_sync() that waits while anything else
holds the page, a backing device that keeps a bio's pages for a while after
completing it, blk-mq, xenbus with an in-memory XenStore, event channels, and
work items and watches on a virtual clock.

Scenario programs play the other end (front_main.c: a backend that maps the
frontend's grants; back_main.c: a frontend that queues requests, and the
backing device).  Each test of the current drivers has a counterpart that
puts the historical fault back into the rendered source by text replacement
and expects the same scenario to fail with an ASan report or the harness's
SIM VIOLATION message.

The frontend is also built as for Linux 5.10 (its kernel_api baseline), with
the stand-in built with SIM_LINUX_5_10: the 5.10 calls (no free_disk,
blk_cleanup_queue, the three-argument
gnttab_end_foreign_access, kmap_atomic, ...) and checks of what they ask of
a driver.  There the frontend keeps its info alive by a reference per open
of the disk instead of free_disk; the lifetime scenarios run on both builds.

"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from xendrvgen.compile import _cbuild

import drivercov as dc

SIM = Path(__file__).resolve().parent / "harness" / "linux_sim"
FLAGS = ["-std=gnu11", "-g", "-O1", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
         "-fno-sanitize-recover=undefined", "-Wall", "-Wno-unused-function", "-Wno-unused-variable",
         "-Wno-maybe-uninitialized",
         # as kbuild: the blkif request structs are packed
         "-Wno-address-of-packed-member", "-Werror"]
# kmap_local_page(NULL) must fault (an ASan SEGV) as in the kernel, not stop at UBSan's null check.
KERN_FLAGS = ["-fno-sanitize=null"]
FRONT = "xen-blkfront.c"
BACK = ["xen-blkback/blkback.c", "xen-blkback/xenbus.c"]
# The stand-in (and the frontend built on it) as Linux 5.10.
ON_5_10 = ["-DSIM_LINUX_5_10"]

# The historical faults, put back by text replacement: (file, [(current text, faulty text), ...]).
_FINISH_CHECKED = """\
	if (!xbf_end_request_grants(info, slot))
		status = BLKIF_RSP_ERROR;	/* the bounce pages went to the grant table */
	else if (status == BLKIF_RSP_OKAY && info->bounce && !slot->write && slot->nr_sg)
		xbf_unbounce(slot);
"""
_FINISH_UNCHECKED = """\
	bool ok = xbf_end_request_grants(info, slot);

	if (status == BLKIF_RSP_OKAY && info->bounce && !slot->write && slot->nr_sg)
		xbf_unbounce(slot);
	if (!ok)
		status = BLKIF_RSP_ERROR;
"""
_OPEN_GET = "\t\tkref_get(&info->ref);\t/* dropped by xbf_release_disk */\n"
_RELEASE_PUT = "\tkref_put(&info->ref, xbf_info_free);\t/* after a removal, the last user frees info */\n"
FAULTS = {
    # unbounce whatever xbf_end_request_grants said: the page it gave away is NULL in the slot
    "front_unbounce_unchecked": (FRONT, [(_FINISH_CHECKED, _FINISH_UNCHECKED)]),
    # ...and the slot keeps pointing at it: the copy reads the page the grant table now owns
    "front_unbounce_kept_page": (FRONT, [(_FINISH_CHECKED, _FINISH_UNCHECKED),
                                         ("\t\tg->page = NULL;\t\t\t/* the grant table frees it */\n", "")]),
    # the slot keeps the page it gave to the grant table: the teardown frees it a second time
    "front_frees_kept_page": (FRONT, [("\t\tg->page = NULL;\t\t\t/* the grant table frees it */\n", "")]),
    # unmap at once, whoever still holds the page, and give it back to the cache
    "back_unmap_at_once": (BACK[0], [("if (gnttab_unmap_refs_sync(&item))",
                                      "if (gnttab_unmap_refs(ops, NULL, pages, n))")]),
    # 6.1: the added disk takes no reference to info, so removal frees it under the disk's user
    "front_disk_holds_no_info": (FRONT, [("\tkref_get(&info->ref);\t\t/* dropped by xbf_free_disk */\n", "")]),
    # 5.10: an open takes no reference to info (free on remove even while the disk is open)
    "front_5_10_open_holds_no_info": (FRONT, [(_OPEN_GET, ""), (_RELEASE_PUT, "")]),
    # 5.10: the release keeps the open's reference, so info is never freed
    "front_5_10_release_keeps_info": (FRONT, [(_RELEASE_PUT, "")]),
    # the ring is freed whether or not the backend let go (what xenbus_teardown_ring does)
    "front_frees_mapped_ring": (FRONT, [("\tif (ended)\n\t\tfree_pages_exact(", "\tif (ended || pages)\n\t\tfree_pages_exact(")]),
}
# The faults built for 5.10 (the rest for 6.1).
FAULTS_5_10 = {"front_5_10_open_holds_no_info", "front_5_10_release_keeps_info"}


def _kernel_headers(root: Path) -> set[str]:
    """The <...> headers of the drivers and of the headers generated with them, other than those."""
    sources = [root / FRONT, *(root / b for b in BACK), root / "xen-blkback" / "common.h", root / "xdg-xenbus.h",
               *sorted((root / "include").rglob("*.h"))]
    out = set()
    for src in sources:
        out.update(re.findall(r"^#include <([^>]+)>", src.read_text(), flags=re.M))
    return {h for h in out if not (root / "include" / h).is_file()}


def _with_fault(root: Path, name: str, dest: Path) -> Path:
    """A copy of the generated Linux tree with fault `name` put back."""
    rel, edits = FAULTS[name]
    shutil.copytree(root, dest)
    src = dest / rel
    text = src.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"fault {name}: the text to replace is not once in {rel}:\n{old}"
        text = text.replace(old, new)
    src.write_text(text)
    return dest


def _cc(cc: str, args: list[str]) -> None:
    r = subprocess.run([cc, *args], capture_output=True, text=True)
    assert r.returncode == 0, f"gcc {' '.join(args[-3:])}:\n{r.stderr[-6000:]}"


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    """The scenario programs, for the drivers as rendered now and for each fault put back."""
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("no host gcc (apt-get install gcc)")
    tmp = tmp_path_factory.mktemp("linuxsim")
    root = dc.render("linux", dc.SPEC, tmp / "gen") / "linux"
    shim = tmp / "shim"
    for h in _kernel_headers(root):
        (shim / h).parent.mkdir(parents=True, exist_ok=True)
        (shim / h).write_text(f'#include "{SIM / "kern.h"}"\n')
    incs = ["-I", str(root / "include"), "-I", str(shim), "-I", str(SIM),
            "-idirafter", str(_cbuild.xen_public_include(tmp))]
    trees = {"": root, **{f: _with_fault(root, f, tmp / f"fault-{f}") for f in FAULTS}}
    jobs = {"kern": [*FLAGS, *KERN_FLAGS, *incs, "-c", str(SIM / "kern.c")],
            "front_main": [*FLAGS, *incs, "-c", str(SIM / "front_main.c")],
            "back_main": [*FLAGS, *incs, "-c", str(SIM / "back_main.c")],
            "kern@5.10": [*FLAGS, *KERN_FLAGS, *ON_5_10, *incs, "-c", str(SIM / "kern.c")],
            "front_main@5.10": [*FLAGS, *ON_5_10, *incs, "-c", str(SIM / "front_main.c")]}
    for tag, tree in trees.items():
        for rel in [FRONT, *BACK]:
            if tag and rel != FAULTS[tag][0]:
                continue
            mod = "xen_blkfront" if rel == FRONT else "xen_blkback"
            flags = ON_5_10 if tag in FAULTS_5_10 else []
            jobs[f"{tag}:{rel}"] = [*FLAGS, *flags, *incs, f'-DKBUILD_MODNAME="{mod}"', "-c", str(tree / rel)]
    jobs[f":{FRONT}@5.10"] = [*FLAGS, *ON_5_10, *incs, '-DKBUILD_MODNAME="xen_blkfront"', "-c", str(root / FRONT)]
    objs = {key: tmp / (re.sub(r"\W", "_", key) + ".o") for key in jobs}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda k: _cc(cc, [*jobs[k], "-o", str(objs[k])]), jobs))

    def link(name: str, main: str, parts: list[str], kern: str = "kern") -> Path:
        exe = tmp / name
        _cc(cc, ["-fsanitize=address,undefined", str(objs[main]), *(str(objs[p]) for p in parts), str(objs[kern]),
                 "-o", str(exe)])
        return exe

    def link_5_10(name: str, front: str) -> Path:
        return link(name, "front_main@5.10", [front], kern="kern@5.10")

    return {
        "front": link("front_sim", "front_main", [f":{FRONT}"]),
        "back": link("back_sim", "back_main", [f":{b}" for b in BACK]),
        "front_unbounce_unchecked": link("front_unchecked", "front_main", [f"front_unbounce_unchecked:{FRONT}"]),
        "front_unbounce_kept_page": link("front_kept", "front_main", [f"front_unbounce_kept_page:{FRONT}"]),
        "front_frees_kept_page": link("front_frees", "front_main", [f"front_frees_kept_page:{FRONT}"]),
        "back_unmap_at_once": link("back_at_once", "back_main", [f"back_unmap_at_once:{BACK[0]}", f":{BACK[1]}"]),
        "front_disk_holds_no_info": link("front_no_disk_ref", "front_main", [f"front_disk_holds_no_info:{FRONT}"]),
        "front_frees_mapped_ring": link("front_frees_ring", "front_main", [f"front_frees_mapped_ring:{FRONT}"]),
        "front_5_10": link_5_10("front_sim_5_10", f":{FRONT}@5.10"),
        **{f: link_5_10(f"front_{f}", f"{f}:{FRONT}") for f in sorted(FAULTS_5_10)},
    }


def run(exe: Path, scenario: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    return subprocess.run([str(exe), scenario], capture_output=True, text=True, timeout=60, env=env)


def passes(exe: Path, scenario: str) -> None:
    r = run(exe, scenario)
    faults = [ln for ln in r.stderr.splitlines()
              if "SIM VIOLATION" in ln or "ERROR: AddressSanitizer" in ln or "runtime error" in ln]
    assert r.returncode == 0 and r.stdout.strip().endswith("ok") and not faults, \
        f"{scenario}: exit {r.returncode}\n{r.stdout}\n{r.stderr[-6000:]}"


def fails(exe: Path, scenario: str, *needles: str) -> str:
    """The scenario fails, and what it prints holds every needle."""
    r = run(exe, scenario)
    out = r.stdout + r.stderr
    assert r.returncode != 0, f"{scenario} passed with the fault put back:\n{out[-4000:]}"
    missing = [n for n in needles if n not in out]
    assert not missing, f"{scenario} failed, but without {missing}:\n{out[-6000:]}"
    return out


# --- (a) the frontend, untrusted (trusted 0: data through bounce pages) -------------------------

def test_untrusted_frontend_fails_a_read_whose_grant_the_backend_keeps_and_leaves_its_bounce_page_alone(sims):
    """A read is answered by a backend that keeps the grant mapped: the frontend
    cannot take it back, so the bounce page goes to the grant table.  The read
    completes with BLK_STS_IOERR, nothing of that page reaches the reader, the
    page is neither read nor freed until the backend lets go (then the grant
    table frees it), and the disk stops.  A well-behaved read before it gets
    its data through the bounce page."""
    passes(sims["front"], "untrusted_read_kept_grant")


def test_untrusted_frontend_fault_unbouncing_unchecked_kmaps_a_null_page(sims):
    """The fault put back: unbounce whatever xbf_end_request_grants said.  The
    slot's page was handed to the grant table (and set to NULL), so the copy
    kmaps NULL: a fault under AddressSanitizer, in xbf_unbounce."""
    out = fails(sims["front_unbounce_unchecked"], "untrusted_read_kept_grant",
                "ERROR: AddressSanitizer: SEGV", "kmap_local_page", "xbf_unbounce")
    assert "xbf_finish" in out


def test_untrusted_frontend_fault_unbouncing_the_kept_page_is_caught_by_the_harness(sims):
    """The same fault with the slot still pointing at the page it gave away:
    the copy reads the page the grant table keeps while the backend still
    maps it, and the backend's data reaches the reader of a failed read."""
    fails(sims["front_unbounce_kept_page"], "untrusted_read_kept_grant",
          "SIM VIOLATION: kmap_local_page of page", "which the driver gave to the grant table",
          "the reader's page was written from the page the grant table kept")


def test_untrusted_frontend_fault_keeping_the_given_page_in_the_slot_frees_it_twice(sims):
    """The read is still failed unread, but the slot keeps the page it gave to
    the grant table: once the backend lets go the grant table frees it, and the
    teardown frees it again (a use after free under AddressSanitizer)."""
    fails(sims["front_frees_kept_page"], "untrusted_read_kept_grant",
          "ERROR: AddressSanitizer: heap-use-after-free", "xbf_drop_grant")


# --- (b) the backend: unmap only once nothing else holds the page ----------------------------------

def test_backend_unmaps_a_data_grant_only_once_the_device_let_go_of_its_page(sims):
    """Writes and reads, direct and indirect, on a device that keeps each bio's
    pages 20 ms past its completion: each answer comes only after the device
    let go (gnttab_unmap_refs_sync waits), no page is mapped again or handed
    out by the page cache while referenced, the device finds its data intact
    when it lets go, and the indirect pages (read only by the backend itself)
    are unmapped at once with gnttab_unmap_refs, which the harness accepts."""
    passes(sims["back"], "write_held")


def test_backend_unmaps_persistent_grants_at_close_only_once_the_device_let_go(sims):
    """Persistent grants stay mapped until the frontend closes; then the backend
    waits for the device that still holds a page of a completed write."""
    passes(sims["back"], "persistent_held_at_close")


def test_backend_fault_unmapping_at_once_reuses_a_page_the_device_still_holds(sims):
    """The fault put back: gnttab_unmap_refs instead of gnttab_unmap_refs_sync.
    The grant is unmapped under the device's reference, the page goes back to
    the cache and the next request maps another grant onto it."""
    fails(sims["back_unmap_at_once"], "write_held",
          "SIM VIOLATION: gnttab_unmap_refs: grant", "other references to the page are held",
          "SIM VIOLATION: gnttab_page_cache_get hands out page",
          "SIM VIOLATION: gnttab_map_refs: grant")


def test_backend_fault_unmapping_persistent_grants_at_once_leaves_the_device_a_page_without_a_frame(sims):
    """The same fault on the close path: the device, when it lets go, reads a
    page whose grant is already unmapped (an AddressSanitizer use-after-poison)."""
    fails(sims["back_unmap_at_once"], "persistent_held_at_close",
          "SIM VIOLATION: gnttab_unmap_refs: grant", "ERROR: AddressSanitizer: use-after-poison",
          "sim_hold_release")


# --- (c) the frontend's info against the disk's users, with free_disk (6.1) and without (5.10) -----

LIFETIME = ["removed_while_open", "closed_then_removed"]


@pytest.mark.parametrize("build", ["front", "front_5_10"])
@pytest.mark.parametrize("scenario", LIFETIME)
def test_frontend_info_is_freed_once_by_the_last_of_removal_and_close(sims, build, scenario):
    """The backend goes while the disk is open; then either (a) the device is
    removed and the disk's user closes it after, or (b) the user closes it
    first (the frontend then closes) and the device is removed after.  Info
    is used by whichever comes last and freed by it, once: no use after free
    or double free under ASan, and no kmalloc'ed block of the driver's left.
    On 6.1 the disk's reference (dropped by free_disk) keeps info; on 5.10,
    which has no free_disk, each open's reference does."""
    passes(sims[build], scenario)


@pytest.mark.parametrize("build", ["front", "front_5_10"])
def test_frontend_keeps_a_ring_the_backend_still_maps_at_a_forced_removal(sims, build):
    """The ring's grant goes to the grant table and its memory is never
    reused: the backend may go on writing through its mapping."""
    r = run(sims[build], "ring_kept_by_backend")
    assert r.returncode == 0, r.stdout + r.stderr[-6000:]
    assert "the backend still maps ring 0; its memory is kept" in r.stdout + r.stderr


def test_frontend_fault_freeing_a_ring_the_backend_still_maps_is_a_use_after_free(sims):
    fails(sims["front_frees_mapped_ring"], "ring_kept_by_backend", "heap-use-after-free")


def test_frontend_on_5_10_passes_the_untrusted_read_scenario(sims):
    """The 5.10 calls of the data path: the bounce copies through
    kmap_atomic, the page handed to the grant table by its address with the
    three-argument gnttab_end_foreign_access."""
    passes(sims["front_5_10"], "untrusted_read_kept_grant")


def test_frontend_fault_on_6_1_a_disk_without_its_reference_frees_info_under_its_user(sims):
    """The fault put back on 6.1: the added disk takes no reference to info,
    so removal frees info while the disk is open, and the user's close
    reads it (a use after free in xbf_release_disk)."""
    fails(sims["front_disk_holds_no_info"], "removed_while_open",
          "ERROR: AddressSanitizer: heap-use-after-free", "xbf_release_disk")


def test_frontend_fault_on_5_10_freeing_info_at_removal_while_open_is_a_use_after_free(sims):
    """The fault on 5.10: opens take no reference (info is freed on removal,
    as if the disk would tell the driver when it goes, which 5.10 does not).
    Removed while open, then closed: the close reads freed info.  The other
    order passes, since there the close comes first."""
    fails(sims["front_5_10_open_holds_no_info"], "removed_while_open",
          "ERROR: AddressSanitizer: heap-use-after-free", "xbf_release_disk", "removed_while_open")
    passes(sims["front_5_10_open_holds_no_info"], "closed_then_removed")


@pytest.mark.parametrize("scenario", LIFETIME)
def test_frontend_fault_on_5_10_a_release_that_keeps_its_reference_never_frees_info(sims, scenario):
    """The fault on 5.10: the release keeps the open's reference, so info
    outlives both the device and the disk (the allocation count shows it)."""
    fails(sims["front_5_10_release_keeps_info"], scenario, "kmalloc'ed blocks left (info not freed?)")
