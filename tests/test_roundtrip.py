"""Round trip: every generated protocol header, compiled by clang for each ABI,
has the sizes, alignments, offsets and constant values of Xen's own header.

Two translation units per ABI are compiled to LLVM IR: one includes Xen's
public blkif.h (libxen-dev), the other an OS's generated blkif.h and
blkif_abi.h.  Both hold the same probe, globals initialised with sizeof,
_Alignof, offsetof and the constants, reached through each header's own
names (xendrvgen.access.Layout knows that Linux keeps request kinds in a
union).  The numbers come from the compiler, not from the spec.  The
x86_32 and x86_64 variant structs of the translation header are measured on
every ABI and must equal Xen's native structs on their own ABI.
"""
from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import pytest

import cbuild
from xendrvgen.spec import osprofile
from xendrvgen.render.fieldaccess import Layout
from xendrvgen.spec import load

ROOT = Path(__file__).resolve().parents[1]
XEN_BLKIF = Path("/usr/include/xen/io/blkif.h")
SPEC = load(ROOT / "specs" / "blkif.yaml")
PROFILES = {p.name: p for p in osprofile.load_many(None)}

pytestmark = [
    pytest.mark.skipif(not cbuild.have("clang"), reason="clang is not installed (apt-get install clang)"),
    pytest.mark.skipif(not XEN_BLKIF.exists(), reason="Xen's headers are not installed (apt-get install libxen-dev)"),
]


def probe(layout: Layout, abi: str, prefix: str) -> str:
    """Globals holding each struct's size and alignment, and each field's offset and width."""
    lines = []
    for st in SPEC.structs:
        if layout.variant is not None and st.name not in {k.name for k in SPEC.request_kinds()} \
                and st.name != SPEC.ring.response:
            continue
        c = layout.container(st)
        key = f"p_{prefix}{st.name}"
        sizeof = layout.size_expr(st, _Plain())
        lines.append(f"long {key}__size = {sizeof};")
        if layout.has_own_alignment(st):
            lines.append(f"long {key}__align = _Alignof({c});")
        for f in st.fields_on(abi):
            path = layout.path(st, f.name)
            lines.append(f"long {key}_{f.name}__off = offsetof({c}, {path});")
            lines.append(f"long {key}_{f.name}__width = sizeof((({c} *)0)->{path});")
    return "\n".join(lines) + "\n"


class _Plain:
    """The spellings a probe uses (plain C11, whatever the OS)."""

    @staticmethod
    def sizeof(t):
        return f"sizeof({t})"

    @staticmethod
    def offsetof(t, p):
        return f"offsetof({t}, {p})"


def constants_probe() -> str:
    out = []
    for c in SPEC.constants:
        if isinstance(c.value, str):
            out.append(f"char p_s_{c.name}[] = {c.name};")
        else:
            out.append(f"long p_c_{c.name} = {c.name};")
    out.append("char p_s_native[] = XEN_IO_PROTO_ABI_NATIVE;")
    ring = SPEC.ring.name
    out.append(f"long p_ring_entry = sizeof(union {ring}_sring_entry);")
    out.append(f"long p_ring_header = offsetof(struct {ring}_sring, ring);")
    return "\n".join(out) + "\n"


XEN_PROFILE = PROFILES["freebsd"]      # separate structs, like Xen's header


@lru_cache(maxsize=None)
def xen_values(abi: str) -> dict:
    work = cbuild.tmpdir()
    try:
        text = ("#include <stdint.h>\n#include <stddef.h>\n#include <xen/io/blkif.h>\n"
                "#include <xen/io/protocols.h>\n"
                + probe(Layout(SPEC, XEN_PROFILE), abi, "") + constants_probe())
        return cbuild.measure(["-idirafter/usr/include"], SPEC.abi(abi).clang_target, text, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)



def gen_values(generated: Path, os_name: str, abi: str) -> dict:
    prof = PROFILES[os_name]
    root = generated / os_name
    work = cbuild.tmpdir()
    try:
        flags = cbuild.include_flags(prof, root, work / "stubs")
        headers = [root / prof.output_for("blkif").path, root / prof.output_for("abi").path]
        body = probe(Layout(SPEC, prof), abi, "") + constants_probe()
        for variant, vabi in SPEC.abi_variants:
            body += probe(Layout(SPEC, prof, variant), vabi, f"v_{variant}_")
        text = cbuild.tu_text(prof, headers, "#include <stddef.h>\n" + body)
        return cbuild.measure(flags, SPEC.abi(abi).clang_target, text, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("abi", SPEC.abi_names)
@pytest.mark.parametrize("os_name", sorted(PROFILES))
def test_layout_and_constants_match_xen(generated, os_name, abi):
    xen = xen_values(abi)
    gen = gen_values(generated, os_name, abi)
    native = {k: v for k, v in gen.items() if not k.startswith("p_v_")}
    assert len(xen) > 60, "the probe measured too little to mean anything"
    # Every number Xen's header gives, the generated header gives too.
    # (Alignment of a request kind inside Linux's union is not a type of its own.)
    missing = sorted(set(xen) - set(native))
    allowed = {k for k in missing if k.endswith("__align")}
    assert set(missing) <= allowed and (os_name == "linux" or not missing), missing
    diffs = {k: (xen[k], native[k]) for k in xen if k in native and xen[k] != native[k]}
    assert not diffs, f"{os_name} on {abi} differs from Xen's header (xen, generated): {diffs}"


@pytest.mark.parametrize("abi", SPEC.abi_names)
@pytest.mark.parametrize("os_name", sorted(PROFILES))
def test_variants_match_xen_on_their_abi(generated, os_name, abi):
    gen = gen_values(generated, os_name, abi)
    for variant, vabi in SPEC.abi_variants:
        xen = {k: v for k, v in xen_values(vabi).items()
               if k.startswith("p_blkif_") and not k.startswith("p_blkif_request_segment")}
        mine = {k.replace(f"p_v_{variant}_", "p_", 1): v for k, v in gen.items()
                if k.startswith(f"p_v_{variant}_")}
        assert len(mine) > 30
        compared = set(mine) & set(xen)
        assert compared >= {k for k in mine}, set(mine) - set(xen)
        diffs = {k: (xen[k], mine[k]) for k in compared if xen[k] != mine[k]}
        assert not diffs, (f"{os_name}: the {variant} variant compiled for {abi} differs from "
                           f"Xen's structs on {vabi} (xen, generated): {diffs}")


def test_probe_catches_a_wrong_layout(generated, tmp_path):
    """The comparison can fail: a generated header with one field moved is caught."""
    prof = PROFILES["freebsd"]
    src = generated / "freebsd"
    broken = tmp_path / "freebsd"
    shutil.copytree(src, broken)
    hdr = broken / prof.output_for("blkif").path
    text = hdr.read_text()
    old = "\tuint8_t                      nr_segments;"
    assert old in text
    # Swap two one-byte fields: same size, different offsets.
    text = text.replace("\tuint8_t                      operation;", "\tuint8_t                      TMP;")
    text = text.replace(old, "\tuint8_t                      operation;", 1)
    text = text.replace("\tuint8_t                      TMP;", old, 1)
    # Drop the header's own assertions so only the probe can notice.
    text = text.replace("BLKIF_STATIC_ASSERT(blkif_", "/* */ typedef int xx_")
    text = "\n".join(ln for ln in text.split("\n") if "typedef int xx_" not in ln)
    hdr.write_text(text)
    work = cbuild.tmpdir()
    try:
        flags = cbuild.include_flags(prof, broken, work / "stubs")
        body = probe(Layout(SPEC, prof), "x86_64", "") + constants_probe()
        text = cbuild.tu_text(prof, [hdr, broken / prof.output_for("abi").path], "#include <stddef.h>\n" + body)
        got = cbuild.measure(flags, SPEC.abi("x86_64").clang_target, text, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    xen = xen_values("x86_64")
    assert got["p_blkif_request_operation__off"] != xen["p_blkif_request_operation__off"]
