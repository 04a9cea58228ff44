"""Every generated protocol header compiles on its own, with warnings as
errors, in each C dialect its OS profile lists, for every ABI: clang for the
four ABIs, gcc and g++ for x86_32 (-m32) and x86_64.

"On its own" means after only what that OS's includer provides first (the
profile's prelude: <stdint.h> types, sys/cdefs.h or Base.h definitions) and
with the profile's stubs for the headers it includes (ring.h is Xen's own
public ring.h from libxen-dev).
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import cbuild
from xendrvgen.spec import osprofile
from xendrvgen.spec.osprofile import DIALECTS
from xendrvgen.spec import load

ROOT = Path(__file__).resolve().parents[1]
SPEC = load(ROOT / "specs" / "blkif.yaml")
PROFILES = {p.name: p for p in osprofile.load_many(None)}



def _jobs(prof, root: Path, compiler: str):
    for out in prof.outputs:
        if not out.header:
            continue
        for dialect in prof.dialects:
            for abi in SPEC.abi_names:
                if compiler == "gcc" and abi not in cbuild.GCC_ABI_FLAGS:
                    continue
                yield out, dialect, abi


def _compile(prof, root: Path, out, dialect, abi, compiler):
    work = cbuild.tmpdir()
    try:
        flags = cbuild.include_flags(prof, root, work / "stubs")
        cmd = cbuild.compiler_cmd(compiler, abi, SPEC.abi(abi).clang_target, dialect) + flags
        res = cbuild.compile_tu(cmd, cbuild.tu_text(prof, [root / out.path]), work)
        return (out.path, dialect, abi, res.returncode, res.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("compiler", ["clang", "gcc"])
@pytest.mark.parametrize("os_name", sorted(PROFILES))
def test_headers_compile_standalone(generated, os_name, compiler):
    if not cbuild.have(compiler):
        pytest.skip(f"{compiler} is not installed")
    prof = PROFILES[os_name]
    root = generated / os_name
    jobs = list(_jobs(prof, root, compiler))
    assert len(jobs) >= 3 * len(prof.dialects) * (2 if compiler == "gcc" else 4)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda j: _compile(prof, root, *j, compiler), jobs))
    failed = [r for r in results if r[3] != 0]
    assert not failed, "\n\n".join(f"{p} [{d}, {a}, {compiler}]:\n{err}" for p, d, a, _, err in failed[:5])


def test_dialects_cover_what_each_os_promises():
    """Xen's public-header copies (FreeBSD, NetBSD) must work in C89 and C++;
    EDK2 is C99 or later; Linux is the kernel's gnu11."""
    assert {"c89", "c99", "c++98", "c++11"} <= set(PROFILES["freebsd"].dialects)
    assert {"c89", "c99", "c++98", "c++11"} <= set(PROFILES["netbsd"].dialects)
    assert "c99" in PROFILES["edk2"].dialects
    assert PROFILES["linux"].dialects == ("gnu11",)
    for p in PROFILES.values():
        assert all(d in DIALECTS for d in p.dialects)


def test_a_broken_assertion_fails_the_compile(generated, tmp_path):
    """The headers' own static assertions fire: a wrong size stops the build
    in every dialect, C89 fallback included."""
    prof = PROFILES["netbsd"]
    root = tmp_path / "netbsd"
    shutil.copytree(generated / "netbsd", root)
    hdr = root / prof.output_for("blkif").path
    text = hdr.read_text()
    assert "sizeof(struct blkif_response) == 16" in text
    hdr.write_text(text.replace("sizeof(struct blkif_response) == 16", "sizeof(struct blkif_response) == 17"))
    out = next(o for o in prof.outputs if o.header == "blkif")
    for dialect in ("c89", "c11", "c++98", "c++11"):
        _, _, _, rc, err = _compile(prof, root, out, dialect, "x86_64", "clang")
        assert rc != 0, f"{dialect}: the broken assertion did not stop the compile"
