"""The drift check on vendored copies and on documentation (issue 11).

Fixtures are built here from the header libxen-dev installs, moved into each
OS's include layout with its macros and edited to older or newer contents;
no upstream text is kept in the tests.  The real-tree tests run when
XENDRVGEN_XEN_TREE, XENDRVGEN_FREEBSD_TREE, XENDRVGEN_NETBSD_TREE,
XENDRVGEN_EDK2_TREE, XENDRVGEN_QEMU_TREE or XENDRVGEN_MINIOS_TREE names a
checkout.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen.headers import doctext, docrevs

ROOT = Path(__file__).resolve().parents[1]
XEN = Path("/usr/include/xen")
needs_xen = pytest.mark.skipif(not (XEN / "io/blkif.h").exists(), reason="apt-get install libxen-dev")


def run(*argv) -> subprocess.CompletedProcess:
    env = {**os.environ, "XENDRVGEN_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=ROOT, env=env)


def edit(path: Path, *pairs) -> None:
    text = path.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text)


def cut(path: Path, start: str, end: str) -> None:
    text = path.read_text()
    i = text.index(start)
    j = text.index(end, i) + len(end)
    path.write_text(text[:i] + text[j:])


def drop_indirect(hdr: Path) -> None:
    cut(hdr, "struct blkif_request_indirect {", "typedef struct blkif_request_indirect blkif_request_indirect_t;")
    edit(hdr, ("#define BLKIF_OP_INDIRECT          6\n", ""),
         ("#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8\n", ""))


# --- vendored shapes -------------------------------------------------------------

@pytest.fixture
def freebsd_legacy(tmp_path) -> Path:
    """sys/xen/interface as FreeBSD 9 kept it: <xen/interface/...> includes, no
    indirect requests, FreeBSD's own segment-block constant."""
    iface = tmp_path / "sys/xen/interface"
    shutil.copytree(XEN, iface)
    hdr = iface / "io/blkif.h"
    edit(hdr, ('#include "ring.h"', "#include <xen/interface/io/ring.h>"),
         ('#include "../grant_table.h"', "#include <xen/interface/grant_table.h>"),
         ("#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11",
          "#define BLKIF_MAX_SEGMENTS_PER_HEADER_BLOCK 11\n#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11"))
    drop_indirect(hdr)
    edit(iface / "io/ring.h", ('#include "../xen-compat.h"', "#include <xen/interface/xen-compat.h>"))
    # FreeBSD's grant_table.h needs domid_t from headers the kernel includes first
    edit(iface / "grant_table.h", ('#include "xen.h"', ""))
    return hdr


@needs_xen
def test_freebsd_legacy_copy_is_read_and_says_what_it_lacks(freebsd_legacy):
    res = run("diff-header", str(freebsd_legacy))
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "(header profile freebsd-legacy)" in out
    assert "- BLKIF_OP_INDIRECT: missing from the header (spec: 6 (operation))" in out
    assert "- blkif_request_indirect: missing from the header" in out
    assert "+ BLKIF_MAX_SEGMENTS_PER_HEADER_BLOCK: only in the header (11)" in out
    assert "Compared: 19 constants" in out and "Traceback" not in res.stderr


@pytest.fixture
def netbsd_old(tmp_path) -> Path:
    """sys/arch/xen/include/xen-public as NetBSD 2015 kept it: no discard, no
    indirect, packed per-ABI request structs spelled with <sys/cdefs.h>'s __packed."""
    pub = tmp_path / "sys/arch/xen/include/xen-public"
    shutil.copytree(XEN, pub)
    hdr = pub / "io/blkif.h"
    drop_indirect(hdr)
    cut(hdr, "/*\n * Cast to this structure when blkif_request.operation == BLKIF_OP_DISCARD",
        "typedef struct blkif_request_discard blkif_request_discard_t;")
    edit(hdr, ("#define BLKIF_OP_DISCARD           5\n", ""),
         ("struct blkif_response {", "struct blkif_x86_32_request {\n    uint8_t operation;\n"
          "    uint64_t id;\n} __packed;\n\nstruct blkif_response {"))
    return hdr


@needs_xen
def test_netbsd_old_copy_gets_packed_and_names_missing_discard(netbsd_old):
    res = run("diff-header", str(netbsd_old))
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "(header profile netbsd-xen-public)" in out and "__packed" not in res.stderr
    assert "- BLKIF_OP_DISCARD: missing from the header" in out
    assert "- blkif_request_discard: missing from the header" in out
    assert "- blkif_request_indirect: missing from the header" in out


@pytest.fixture
def edk2_copy(tmp_path) -> Path:
    """OvmfPkg/Include/IndustryStandard/Xen: EDK2 base types, and an xen.h that
    knows only MDE_CPU_X64 and MDE_CPU_AARCH64."""
    xen = tmp_path / "OvmfPkg/Include/IndustryStandard/Xen"
    shutil.copytree(XEN, xen)
    hdr = xen / "io/blkif.h"
    text = hdr.read_text().replace("#define blkif_vdev_t   uint16_t", "#define blkif_vdev_t  UINT16")
    hdr.write_text(re.sub(r"\buint(8|16|64)_t\b", r"UINT\1", text).replace("int16_t ", "INT16 "))
    edit(xen / "xen.h", ('#include "xen-compat.h"', '#include "xen-compat.h"\n'
                         "#if !defined(MDE_CPU_X64) && !defined(MDE_CPU_AARCH64)\n"
                         '#error "Unsupported architecture"\n#endif'))
    return hdr


@needs_xen
def test_edk2_copy_with_its_macros_and_refused_abis(edk2_copy):
    res = run("diff-header", str(edk2_copy))
    assert res.returncode in (0, 1), res.stdout + res.stderr
    out = res.stdout
    assert "(header profile edk2)" in out and "on x86_64, arm64:" in out
    assert "Not compared: x86_32, which the header refuses (#error" in out and "arm32, which" in out
    assert "blkif_vdev_t" not in out               # UINT16 is EDK2's spelling of uint16_t
    val = run("validate", "--header", str(edk2_copy))
    assert "not compared on x86_32: the header refuses it" in val.stdout


QEMU_IFACE = "qemu/include/hw/xen/interface"


def _qemu_tree(tmp_path, *rels: str) -> Path:
    """Xen's headers copied into QEMU's include/hw/xen/interface, only those named."""
    iface = tmp_path / QEMU_IFACE
    for rel in rels:
        (iface / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(XEN / rel, iface / rel)
    return iface


def _same_report(copy: Path) -> tuple[subprocess.CompletedProcess, bool]:
    """diff-header on the copy, and whether its report is the installed header's
    (paths aside): the same content must read the same in any layout."""
    res = run("diff-header", str(copy))
    ref = run("diff-header", str(XEN / "io/blkif.h"))
    assert ref.returncode == 0, ref.stdout + ref.stderr
    return res, res.stdout.replace(str(copy), "H") == ref.stdout.replace(str(XEN / "io/blkif.h"), "H")


@pytest.fixture
def qemu_copy(tmp_path) -> Path:
    """include/hw/xen/interface as current QEMU keeps it, imported from Xen
    4.17: the headers its Xen emulation and backends need, with
    XEN_FLEX_ARRAY_DIM and the pre-C99 spelling of XEN_DEFINE_UUID cut."""
    iface = _qemu_tree(tmp_path, "io/blkif.h", "io/ring.h", "io/protocols.h", "io/xenbus.h", "grant_table.h",
                       "xen.h", "xen-compat.h", "arch-x86/xen.h", "arch-x86/xen-x86_32.h",
                       "arch-x86/xen-x86_64.h", "arch-arm.h")
    xen_h = iface / "xen.h"
    cut(xen_h, "/* Define a variable length array", "#endif\n\n")
    text = xen_h.read_text()
    uuid = re.compile(r"#if defined\(__STDC_VERSION__\) \?[^\n]*\n(#define XEN_DEFINE_UUID\(.*?\n.*?\n)"
                      r"#else\n.*?#endif /\* __STDC_VERSION__ / __GNUC__ \*/\n", re.S)
    assert uuid.search(text)
    xen_h.write_text(uuid.sub(r"\1", text))
    edit(iface / "xen-compat.h", ("#define COMPAT_FLEX_ARRAY_DIM XEN_FLEX_ARRAY_DIM\n", ""))
    assert "FLEX_ARRAY_DIM" not in xen_h.read_text() + (iface / "xen-compat.h").read_text()
    return iface / "io/blkif.h"


@pytest.fixture
def qemu_2019_copy(tmp_path) -> Path:
    """include/hw/xen/interface as QEMU 4.1 to 6.2 kept it: only io/*.h from Xen,
    QEMU's own grant_table.h (grant_ref_t and nothing else, no xen.h beside
    it), a ring.h without xen-compat.h whose barriers and sizeof_field come
    from QEMU's own headers."""
    iface = _qemu_tree(tmp_path, "io/blkif.h", "io/ring.h", "io/protocols.h", "io/xenbus.h")
    (iface / "grant_table.h").write_text("#ifndef QEMU_FIXTURE_GRANT_TABLE_H\n#define QEMU_FIXTURE_GRANT_TABLE_H\n"
                                         "typedef uint32_t grant_ref_t;\n#endif\n")
    ring = iface / "io/ring.h"
    edit(ring, ('#include "../xen-compat.h"\n', ""),
         ("sizeof(((struct _s##_sring *)0)->ring[0])", "sizeof_field(struct _s##_sring, ring[0])"))
    cut(ring, "#if __XEN_INTERFACE_VERSION__ < 0x00030208", "#endif\n")
    assert "xen-compat" not in ring.read_text() and not (iface / "xen.h").exists()
    return iface / "io/blkif.h"


@needs_xen
def test_qemu_copy_is_xens_shape_and_reads_the_same(qemu_copy):
    res, same = _same_report(qemu_copy)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "(header profile xen-public)" in out and "on x86_32, x86_64, arm32, arm64:" in out
    assert "No difference in what was compared" in out and "Not compared" not in out
    assert same, out


@needs_xen
def test_qemu_2019_copy_with_its_own_grant_table_reads_the_same(qemu_2019_copy):
    res, same = _same_report(qemu_2019_copy)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "(header profile xen-public)" in res.stdout and "Traceback" not in res.stderr
    assert same, res.stdout


@needs_xen
def test_an_edited_qemu_copy_names_what_changed(qemu_2019_copy):
    drop_indirect(qemu_2019_copy)
    edit(qemu_2019_copy, ("    uint8_t        nr_segments;  /* number of segments                   */",
                          "    uint16_t       nr_segments;  /* number of segments                   */"))
    res = run("diff-header", str(qemu_2019_copy))
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "(header profile xen-public)" in out
    assert "- BLKIF_OP_INDIRECT: missing from the header (spec: 6 (operation))" in out
    assert "- blkif_request_indirect: missing from the header" in out
    assert "~ blkif_request.nr_segments type: spec uint8_t (1 bytes), header uint16_t (2 bytes)" in out
    assert "~ blkif_request size on x86_32: spec 108, header 112" in out


@needs_xen
def test_qemu_backend_header_is_not_a_copy(tmp_path, qemu_copy):
    """QEMU's hw/block/xen_blkif.h wraps the real header with the backend's
    per-ABI request structs and rings: it is named as such, not compared."""
    wrapper = tmp_path / "qemu/hw/block/xen_blkif.h"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text("#ifndef FIXTURE_XEN_BLKIF_H\n#define FIXTURE_XEN_BLKIF_H\n\n"
                       '#include "hw/xen/interface/io/blkif.h"\n\n'
                       "struct blkif_x86_32_request { uint8_t operation; uint64_t id; } __attribute__((__packed__));\n"
                       "struct blkif_x86_32_response { uint64_t id; int16_t status; } __attribute__((__packed__));\n"
                       "DEFINE_RING_TYPES(blkif_x86_32, struct blkif_x86_32_request, struct blkif_x86_32_response);\n"
                       "#endif\n")
    res = run("diff-header", str(wrapper))
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"{wrapper}:4:1: no header profile fits: this is not a copy of blkif.h, it includes one " \
           '(#include "hw/xen/interface/io/blkif.h"); compare that copy' in res.stderr
    assert "Traceback" not in res.stderr


@needs_xen
def test_an_error_on_every_abi_is_still_the_headers_error(tmp_path):
    shutil.copytree(XEN, tmp_path / "xen")
    hdr = tmp_path / "xen/io/blkif.h"
    hdr.write_text('#error "vendor only"\n' + hdr.read_text())
    res = run("diff-header", str(hdr))
    assert res.returncode == 2 and "vendor only" in res.stderr and "Traceback" not in res.stderr


# --- documentation ---------------------------------------------------------------

@pytest.fixture
def xen_copy(tmp_path) -> Path:
    shutil.copytree(XEN, tmp_path / "xen")
    return tmp_path / "xen/io/blkif.h"


@needs_xen
def test_typo_fixes_and_reflowing_keep_the_release(xen_copy):
    text = xen_copy.read_text()
    assert "since the the backend" in text and "advertizes" in text
    edit(xen_copy, ("since the the backend", "since the backend"), ("advertizes", "advertises"),
         (" *      The size of the backend device, expressed in units of \"sector-size\".\n",
          " *      The size of the backend device,\n *      expressed in units of \"sector-size\".\n"))
    res = run("validate", "--header", str(xen_copy))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "documentation of Xen 4.17 to 4.19" in res.stdout
    assert "changed wording" not in res.stdout


@needs_xen
def test_a_changed_sentence_and_a_changed_unit_are_named(xen_copy):
    edit(xen_copy,
         ("any time without impact to the client.", "any time without any impact at all."),
         (" *      The size, in bytes, of the individually addressable discard extents",
          " *      The size, in 512-byte units, of the individually addressable discard extents"))
    res = run("validate", "--header", str(xen_copy))
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "documentation of no known Xen release (closest: Xen 4.17 to 4.19, 1 items differ)" in out
    assert ("mismatch: In node 'discard-granularity' (backend): units: spec bytes, header 512-byte "
            "sectors ('in 512-byte units'") in out
    assert "changed wording against Xen 4.20 to 4.22" in out
    diff = run("diff-header", str(xen_copy))
    assert diff.returncode == 1 and "~ node 'discard-granularity' (backend): units: spec bytes" in diff.stdout


@needs_xen
def test_the_spec_is_held_to_the_release_it_follows(tmp_path):
    """A spec that says it follows Xen 4.17 but counts sectors in 512-byte
    units: against 4.17's own wording that is a mismatch, not older text."""
    spec = tmp_path / "blkif.yaml"
    spec.write_text((ROOT / "specs/blkif.yaml").read_text().replace('xen_version: "4.20"', 'xen_version: "4.17"'))
    res = run("validate", "--spec", str(spec), "--header", str(XEN / "io/blkif.h"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert ("mismatch: In node 'sectors' (backend): units: spec 512-byte sectors, header sector-size units"
            in res.stdout)
    assert "[older documentation" not in res.stdout


@needs_xen
def test_check_passes_on_the_older_installed_header():
    res = run("validate")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Xen 4.17 as packaged" not in res.stdout
    assert "note: In node 'sectors' (backend): units: spec 512-byte sectors, header sector-size units" in res.stdout
    assert "[older documentation: Xen 4.17 to 4.19's; the spec follows Xen 4.20 to 4.22]" in res.stdout


def test_normalised_sentences():
    a = "The value must be formated  as a\n   power of 2, and the the backend advertizes it."
    b = "The value must be formatted as a power of 2, and the backend advertises it."
    assert doctext.fingerprint(a) == doctext.fingerprint(b)
    assert doctext.fingerprint(b) != doctext.fingerprint(b.replace("must", "must not"))
    assert doctext.sentences("First one. Second (e.g. this) one.\n\nThird") == \
        ["First one.", "Second (e.g. this) one.", "Third"]
    assert doctext.unit_of('expressed in units of "sector-size".')[0] == "sector-size units"
    assert doctext.unit_of("The size, in bytes, then in units of 512b")[0] == "bytes"
    assert doctext.unit_of("in units of lb(machine pages)")[0] == "log2 pages"
    assert doctext.minimum_of("a power of two with a minimum value of 512") == 512


def test_schema_units_are_doctexts():
    from xendrvgen.spec.schema import UNITS
    assert tuple(UNITS["enum"]) == doctext.UNITS


@needs_xen
def test_record_docs_extends_a_release(tmp_path, monkeypatch):
    copy = tmp_path / "xen-blkif.yaml"
    shutil.copy(docrevs.BASELINE, copy)
    monkeypatch.setattr(docrevs, "BASELINE", copy)
    from xendrvgen.headers.compare.diffheader import record_docs
    said = record_docs(str(XEN / "io/blkif.h"), "4.99")
    assert "same documentation as Xen 4.17 to 4.19: now Xen 4.17 to 4.99" in said
    assert any(r.until == "4.99" for r in docrevs.load(copy).revisions)
    with pytest.raises(Exception, match="give the Xen release"):
        record_docs(str(XEN / "io/blkif.h"), "latest")


# --- real trees ------------------------------------------------------------------

def _first(root: str, *rels: str) -> Path:
    for rel in rels:
        for base in (Path(root), Path(root) / "sys"):
            p = base / rel
            if p.is_file():
                return p
    pytest.skip(f"no blkif.h under {root} ({', '.join(rels)})")


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_XEN_TREE"), reason="set XENDRVGEN_XEN_TREE to a xen checkout")
def test_real_xen_tree():
    res = run("diff-header", str(_first(os.environ["XENDRVGEN_XEN_TREE"], "xen/include/public/io/blkif.h")))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No difference in what was compared." in res.stdout


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_EDK2_TREE"), reason="set XENDRVGEN_EDK2_TREE to an edk2 checkout")
def test_real_edk2_tree():
    hdr = _first(os.environ["XENDRVGEN_EDK2_TREE"], "OvmfPkg/Include/IndustryStandard/Xen/io/blkif.h")
    res = run("diff-header", str(hdr))
    assert res.returncode in (0, 1) and "(header profile edk2)" in res.stdout, res.stdout + res.stderr
    assert "Compared: " in res.stdout


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_FREEBSD_TREE"), reason="set XENDRVGEN_FREEBSD_TREE to a FreeBSD src tree")
def test_real_freebsd_tree():
    hdr = _first(os.environ["XENDRVGEN_FREEBSD_TREE"], "xen/interface/io/blkif.h", "contrib/xen/io/blkif.h")
    res = run("diff-header", str(hdr))
    assert res.returncode in (0, 1), res.stdout + res.stderr
    assert "Compared: " in res.stdout and "Traceback" not in res.stderr


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_NETBSD_TREE"), reason="set XENDRVGEN_NETBSD_TREE to a NetBSD src tree")
def test_real_netbsd_tree():
    hdr = _first(os.environ["XENDRVGEN_NETBSD_TREE"], "arch/xen/include/xen-public/io/blkif.h",
                 "external/mit/xen-include-public/dist/xen/include/public/io/blkif.h")
    res = run("diff-header", str(hdr))
    assert res.returncode in (0, 1), res.stdout + res.stderr
    assert "Compared: " in res.stdout and "Traceback" not in res.stderr


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_QEMU_TREE"), reason="set XENDRVGEN_QEMU_TREE to a QEMU checkout")
def test_real_qemu_tree():
    root = os.environ["XENDRVGEN_QEMU_TREE"]
    wrapper = Path(root) / "hw/block/xen_blkif.h"          # the backend's wrapper, where the tree has it
    if wrapper.is_file():
        res = run("diff-header", str(wrapper))
        assert res.returncode == 2 and "this is not a copy of blkif.h" in res.stderr, res.stdout + res.stderr
    res = run("diff-header", str(_first(root, "include/hw/xen/interface/io/blkif.h")))
    assert res.returncode in (0, 1) and "(header profile xen-public)" in res.stdout, res.stdout + res.stderr
    assert "Compared: " in res.stdout and "Traceback" not in res.stderr


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_MINIOS_TREE"), reason="set XENDRVGEN_MINIOS_TREE to a Mini-OS checkout")
def test_real_minios_tree():
    hdr = _first(os.environ["XENDRVGEN_MINIOS_TREE"], "include/xen/io/blkif.h")
    # with the interface version Mini-OS's Config.mk builds with
    res = run("diff-header", "--define", "__XEN_INTERFACE_VERSION__=0x00030205", str(hdr))
    assert res.returncode in (0, 1) and "(header profile xen-public)" in res.stdout, res.stdout + res.stderr
    assert "Compared: " in res.stdout and "Traceback" not in res.stderr
