"""xendrvgen.headers against the real installed headers (libxen-dev, linux-headers-amd64)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xendrvgen.headers import ALL, analyze, analyze_many, detect_installed, layout, load_profile, preprocess
from xendrvgen.headers.cexpr import evaluate_many
from xendrvgen.headers.nodedocs import parse_node_docs
from xendrvgen.headers.wire import wire_map
from xendrvgen.base.diagnostics import SpecError

INSTALLED = {prof.name: path for prof, path in reversed(detect_installed())}  # newest wins
XEN = INSTALLED.get("xen-public")
LINUX = INSTALLED.get("linux")
need_xen = pytest.mark.skipif(XEN is None, reason="libxen-dev is not installed")
need_linux = pytest.mark.skipif(LINUX is None, reason="linux-headers-amd64 is not installed")


@pytest.fixture(scope="module")
def xen():
    if XEN is None:
        pytest.skip("libxen-dev is not installed")
    return analyze(XEN)


@pytest.fixture(scope="module")
def linux():
    if LINUX is None:
        pytest.skip("linux-headers-amd64 is not installed")
    return analyze(LINUX)


def source_line(path: str, pattern: str) -> int:
    """1-based number of the first line of a file matching a regex."""
    for no, line in enumerate(Path(path).read_text().splitlines(), 1):
        if re.search(pattern, line):
            return no
    raise AssertionError(f"{pattern!r} not in {path}")


# --- profiles -----------------------------------------------------------

def test_profiles_pick_headers_by_content(xen, linux):
    assert xen.profile.name == "xen-public"
    assert linux.profile.name == "linux"
    assert linux.profile.defines_for("x86_32") == {"CONFIG_X86_32": "1"}
    assert xen.abis == ALL


@need_linux
def test_header_copied_elsewhere_is_recognised(tmp_path):
    # a user-given path with no profile: the content decides
    base = Path(LINUX).parents[3]
    copy = tmp_path / "include"
    shutil.copytree(base / "xen" / "interface", copy / "xen" / "interface")
    facts = analyze(str(copy / "xen" / "interface" / "io" / "blkif.h"), abis=("x86_64",))
    assert facts.profile.name == "linux"
    assert facts.layouts["x86_64"]["blkif_request"].size == 112


def test_malformed_profile_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npackage: [\n")
    with pytest.raises(SpecError, match="malformed YAML") as e:
        load_profile(str(bad))
    assert e.value.diagnostics[0].mark.file == str(bad) and e.value.diagnostics[0].mark.line == 3


def test_bad_profile_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\npackage: x\nlocate: []\ndetect: {}\nrequest_kinds: {}\nbogus: 1\n")
    with pytest.raises(SpecError) as e:
        load_profile(str(bad))
    d = e.value.diagnostics[0]
    assert "unknown key 'bogus'" in d.message and d.mark.file == str(bad) and d.mark.line == 6


# --- layouts (libclang) ---------------------------------------------------

def test_xen_request_layout(xen):
    lay = xen.layouts
    req32, req64 = lay["x86_32"]["blkif_request"], lay["x86_64"]["blkif_request"]
    assert (req32.size, req32.align, req32.field("id").offset) == (108, 4, 4)
    assert (req64.size, req64.align, req64.field("id").offset) == (112, 8, 8)
    assert lay["arm32"]["blkif_request"].size == 112
    assert lay["arm64"]["blkif_request"].size == 112
    seg = req64.field("seg")
    assert (seg.canonical, seg.dims, seg.size, seg.record.name) == \
        ("struct blkif_request_segment", (11,), 88, "blkif_request_segment")


def test_xen_indirect_pad_only_on_x86_32(xen):
    for abi in ALL:
        names = [f.name for f in xen.layouts[abi]["blkif_request_indirect"].fields]
        c_names = [f.name for f in xen.structs[abi]["blkif_request_indirect"].fields]
        assert ("pad" in names) == (abi == "x86_32") == ("pad" in c_names)
        assert xen.layouts[abi]["blkif_request_indirect"].size == 64


def test_response_sizes(xen):
    sizes = {abi: xen.layouts[abi]["blkif_response"].size for abi in ALL}
    assert sizes == {"x86_32": 12, "x86_64": 16, "arm32": 16, "arm64": 16}


@need_xen
@pytest.mark.parametrize("flag,abi", [("-m32", "x86_32"), ("-m64", "x86_64")])
def test_layout_agrees_with_gcc(xen, tmp_path, flag, abi):
    """Independent check: what gcc itself lays out for the host ABIs."""
    src = tmp_path / "sizes.c"
    src.write_text(
        "#include <stdint.h>\n#include <stddef.h>\n#include <stdio.h>\n"
        f'#include "{XEN}"\n'
        "int main(void) { printf(\"%zu %zu %zu %zu %zu %zu\\n\",\n"
        " sizeof(struct blkif_request), _Alignof(struct blkif_request),\n"
        " offsetof(struct blkif_request, id), sizeof(struct blkif_response),\n"
        " sizeof(struct blkif_request_indirect), offsetof(struct blkif_sring, ring)); return 0; }\n")
    exe = tmp_path / "sizes"
    build = subprocess.run(["gcc", flag, "-o", str(exe), str(src)], capture_output=True, text=True)
    if build.returncode:
        pytest.skip(f"gcc {flag} cannot build here (gcc-multilib?): {build.stderr[:200]}")
    got = [int(x) for x in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()]
    lay = xen.layouts[abi]
    assert got == [lay["blkif_request"].size, lay["blkif_request"].align,
                   lay["blkif_request"].field("id").offset, lay["blkif_response"].size,
                   lay["blkif_request_indirect"].size, lay["blkif_sring"].field("ring").offset]


def test_ring_entries_start_at_64_everywhere(xen, linux):
    for facts in (xen, linux):
        for abi in ALL:
            ring = facts.layouts[abi]["blkif_sring"].field("ring")
            assert ring.offset == 64 and ring.canonical == "union blkif_sring_entry"


def test_nested_anonymous_union_has_layout(xen):
    pvt = xen.layouts["x86_64"]["blkif_sring"].field("pvt")
    assert pvt.canonical == "union <anonymous>" and pvt.record.kind == "union"
    assert [f.name for f in pvt.record.fields] == ["netif", "tapif_user", "pvt_pad"]
    c_pvt = xen.structs["x86_64"]["blkif_sring"].field("pvt")
    assert c_pvt.record is not None and c_pvt.record.fields[0].record.fields[0].name == "smartpoll_active"


# --- names and types (pycparser) ------------------------------------------

def test_pycparser_and_libclang_agree_on_fields(xen, linux):
    for facts in (xen, linux):
        for abi in ALL:
            assert set(facts.structs[abi]) == set(facts.layouts[abi])
            for name, rec in facts.structs[abi].items():
                lay = facts.layouts[abi][name]
                assert [f.name or "" for f in rec.fields] == [f.name for f in lay.fields], (abi, name)
                assert [(f.canonical, f.dims) for f in rec.fields] == \
                       [(f.canonical, f.dims) for f in lay.fields], (abi, name)


def test_layout_on_its_own_finds_the_same_records(linux):
    """layout.py without pycparser's names to guide it."""
    with preprocess.Workdir(linux.path, linux.profile) as wd:
        alone = layout.layouts(wd, ("x86_32", "arm64"))
    for abi in alone:
        assert alone[abi] == linux.layouts[abi]


def test_analyze_many_is_analyze(xen, linux):
    both = analyze_many([(XEN, None), (LINUX, "linux")], abis=("x86_32", "x86_64"))
    assert [f.profile.name for f in both] == ["xen-public", "linux"]
    assert both[0].layouts["x86_32"] == xen.layouts["x86_32"]
    assert both[1].structs["x86_64"] == linux.structs["x86_64"]
    assert both[1].constants == linux.constants


def test_ring_types_come_from_the_header(xen):
    recs = xen.structs["x86_64"]
    line = source_line(XEN, r"^DEFINE_RING_TYPES\(blkif")
    for name in ("blkif_sring", "blkif_sring_entry", "blkif_front_ring", "blkif_back_ring"):
        assert recs[name].line == line and recs[name].file == XEN
    assert "netif_sring" not in recs


def test_types_as_spelled_and_canonical(xen, linux):
    f = xen.structs["x86_64"]["blkif_request"].field("sector_number")
    assert (f.spelled, f.canonical) == ("blkif_sector_t", "uint64_t")
    g = xen.structs["x86_64"]["blkif_request_segment"].field("gref")
    assert (g.spelled, g.canonical) == ("grant_ref_t", "uint32_t")
    assert xen.typedefs["blkif_sector_t"].via == "macro"      # Xen #defines it
    assert linux.typedefs["blkif_sector_t"].via == "typedef"  # Linux typedefs it
    assert xen.typedefs["grant_ref_t"].canonical == "uint32_t"
    # builtin integer types get their fixed-width name (per ABI for long)
    assert xen.typedefs["RING_IDX"].canonical == "uint32_t" and xen.typedefs["RING_IDX"].spelled == "unsigned int"
    front = xen.layouts["x86_64"]["blkif_front_ring"]
    assert front.field("nr_ents").canonical == "uint32_t"
    assert front.field("sring").canonical == "struct blkif_sring *" and front.field("sring").size == 8
    assert xen.layouts["x86_32"]["blkif_front_ring"].field("sring").size == 4
    assert linux.typedefs["grant_ref_t"].file == "<stubs>/xen/interface/grant_table.h"
    assert linux.structs["x86_64"]["blkif_request"].field("u").spelled == "union <anonymous>"


def test_constants(xen):
    c = xen.constants
    assert c["BLKIF_OP_INDIRECT"].value == 6
    assert c["BLKIF_RSP_EOPNOTSUPP"].value == -2
    assert c["BLKIF_DISCARD_SECURE"].value == 1 and c["BLKIF_DISCARD_SECURE"].text == "(1<<0)"
    assert c["VDISK_READONLY"].value == 4
    assert c["XEN_IO_PROTO_ABI_X86_64"].value == "x86_64-abi"
    assert c["XenbusStateReconfigured"].value == 8 and c["XenbusStateReconfigured"].kind == "enum"
    assert c["BLKIF_DISCARD_SECURE"].line == source_line(XEN, r"#define BLKIF_DISCARD_SECURE")
    assert c["BLKIF_RSP_EOPNOTSUPP"].line == source_line(XEN, r"#define BLKIF_RSP_EOPNOTSUPP")
    native = {abi: xen.constants_by_abi[abi]["XEN_IO_PROTO_ABI_NATIVE"].value for abi in ALL}
    assert native == {"x86_32": "x86_32-abi", "x86_64": "x86_64-abi", "arm32": "arm-abi", "arm64": "arm-abi"}
    assert xen.abi_dependent_constants() == ["XEN_IO_PROTO_ABI_NATIVE"]
    assert "blkif_vdev_t" not in c and xen.skipped["__XEN_PUBLIC_IO_BLKIF_H__"].reason == "empty definition"


def test_constant_expressions():
    got = evaluate_many(["(1<<0)", "-2", "0x10ULL >> 2", "(uint32_t)-1", '"a" "b"',
                         "-(7 % -2)", "1 ? 2 : 3", "'A'", "sizeof(int)", "1 +"])
    assert [got[k] for k in ["(1<<0)", "-2", "0x10ULL >> 2", "(uint32_t)-1", '"a" "b"',
                             "-(7 % -2)", "1 ? 2 : 3", "'A'"]] == [1, -2, 4, 0xFFFFFFFF, "ab", -1, 2, 65]
    assert "sizeof" in str(got["sizeof(int)"]) and "not a C expression" in str(got["1 +"])


# --- wire maps ------------------------------------------------------------

def test_linux_rw_wire_map(linux):
    rw64 = {leaf.path: leaf for leaf in linux.wire_map("blkif_request", "x86_64")}
    assert rw64["operation"].offset == 0
    assert rw64["u.rw.id"].offset == 8 and rw64["u.rw.id"].type == "uint64_t"
    assert rw64["u.rw._pad1"].offset == 4 and rw64["u.rw._pad1"].padding
    assert rw64["u.rw.seg"].dims == (11,) and rw64["u.rw.seg"].type == "struct blkif_request_segment"
    rw32 = {leaf.path: leaf for leaf in linux.wire_map("blkif_request", "x86_32")}
    assert rw32["u.rw.id"].offset == 4 and "u.rw._pad1" not in rw32


def test_wire_maps_match_between_headers(xen, linux):
    """Same bytes on the wire: Xen's separate structs vs Linux's union members."""
    for abi in ALL:
        for kind in ("blkif_request", "blkif_request_discard", "blkif_request_indirect"):
            def real(facts):
                return {(leaf.offset, leaf.size, leaf.type, leaf.name)
                        for leaf in facts.wire_map(kind, abi) if not leaf.padding}
            expected = real(xen)
            if kind == "blkif_request_discard":   # Linux calls the (unused) discard handle _pad1
                expected -= {(2, 2, "uint16_t", "handle")}
            assert real(linux) == expected, (abi, kind)


def test_unselected_union_stays_one_leaf(linux):
    leaves = wire_map(linux.layouts["x86_64"], "blkif_request")
    assert [(leaf.path, leaf.offset, leaf.type) for leaf in leaves] == \
        [("operation", 0, "uint8_t"), ("u", 1, "union <anonymous>")]
    with pytest.raises(SpecError, match="no member 'bogus'"):
        wire_map(linux.layouts["x86_64"], "blkif_request", {"u": "bogus"})
    with pytest.raises(SpecError, match="no union at 'v'"):
        wire_map(linux.layouts["x86_64"], "blkif_request", {"v": "rw"})


# --- node documentation ---------------------------------------------------

def test_node_docs(xen):
    docs = xen.node_docs
    mrp = docs.find("max-ring-pages", "backend")
    assert mrp.deprecated and mrp.notes == (2, 3) and mrp.default == "1"
    assert mrp.line == source_line(XEN, r"^ \* max-ring-pages$")
    trusted = docs.find("trusted")
    assert trusted.side == "frontend" and trusted.default == "1"
    mode = docs.find("mode")
    assert mode.private and "PRIVATE" in mode.section and mode.side == "backend"
    assert docs.find("ring-page-order").maximum.startswith("MAX(")
    assert docs.find("feature-persistent", "frontend").notes == (7, 8, 9)
    assert docs.find("feature-persistent", "backend").notes == (7,)
    assert docs.find("ring-ref%u").side == "frontend"
    assert docs.find("sector-size").default is None
    assert sorted(docs.notes) == list(range(1, 12))
    assert docs.notes[11].text == "Only used by Linux and NetBSD."


def test_linux_copy_has_no_node_docs(linux):
    assert linux.node_docs is None
    assert parse_node_docs(Path(LINUX).read_text()) is None


# --- bad input: clean errors, never a traceback ---------------------------

def test_missing_header():
    with pytest.raises(SpecError) as e:
        analyze("/nonexistent/xen/io/blkif.h", profile="xen-public")
    d = e.value.diagnostics[0]
    assert d.mark.file == "/nonexistent/xen/io/blkif.h"
    assert "header not found" in d.message and "apt-get install libxen-dev" in d.message


def _bad_header(tmp_path: Path, body: str) -> Path:
    h = tmp_path / "blkif.h"
    h.write_text("#include <stdint.h>\n" + body)
    return h


@pytest.mark.parametrize("body,line", [
    ("struct blkif_request {\n    uint8_t operation\n};\n", 4),        # only pycparser objects (at "}")
    ("struct blkif_request {\n    uint8_t int;\n};\n", 3),             # clang errors
])
def test_syntax_error_has_file_and_line(tmp_path, body, line):
    h = _bad_header(tmp_path, body)
    with pytest.raises(SpecError) as e:
        analyze(str(h), profile="xen-public", abis=("x86_64",))
    d = e.value.diagnostics[0]
    assert (d.mark.file, d.mark.line) == (str(h), line) and d.mark.column > 0


def test_preprocessor_error_has_file_and_line(tmp_path):
    h = _bad_header(tmp_path, "\n#include \"no-such-header.h\"\n")
    with pytest.raises(SpecError) as e:
        analyze(str(h), profile="xen-public")
    d = e.value.diagnostics[0]
    assert (d.mark.file, d.mark.line) == (str(h), 3)
    assert "no-such-header.h" in d.message and d.message.startswith("preprocessor:")


def test_missing_gcc_says_what_to_install(tmp_path, monkeypatch, xen):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SpecError, match="apt-get install gcc"):
        analyze(XEN, abis=("x86_64",))


def test_header_no_profile_fits(tmp_path):
    h = _bad_header(tmp_path, "struct something_else { int x; };\n")
    with pytest.raises(SpecError, match="no header profile fits") as e:
        analyze(str(h))
    assert e.value.diagnostics[0].mark.file == str(h)


def test_unknown_abi():
    with pytest.raises(SpecError, match="unknown ABI 'sparc'"):
        analyze(XEN or "/usr/include/xen/io/blkif.h", abis=("sparc",))
