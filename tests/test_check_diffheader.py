"""`xendrvgen diff-header FILE`: what a copy of blkif.h lacks or gets wrong,
each finding with the spec's value and the header's."""
from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
XEN = Path("/usr/include/xen")
LINUX = sorted(glob.glob("/usr/src/linux-headers-*-common/include/xen/interface/io/blkif.h"))

needs_xen = pytest.mark.skipif(not (XEN / "io/blkif.h").exists(), reason="apt-get install libxen-dev")


def run(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=cwd or ROOT)


@needs_xen
def test_xens_417_header_is_older_documentation_not_a_failure():
    """Debian's header (Xen 4.17) against a spec that follows Xen 4.20: every
    changed meaning is named as older documentation, the verdict is validate's
    (exit 0), and the report says what it compared instead of "agrees"."""
    res = run("diff-header", str(XEN / "io/blkif.h"))
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "agrees" not in out
    assert "Documentation (recognised as Xen 4.17 to 4.19; the spec follows Xen 4.20" in out
    assert ("< node 'sectors' (backend): units: spec 512-byte sectors, header sector-size units "
            "('units of \"sector-size\"'") in out
    for field in ("blkif_request_segment' field 'first_sect", "blkif_request' field 'sector_number",
                  "blkif_request_discard' field 'sector_number", "blkif_request_indirect' field 'sector_number"):
        assert f"< struct '{field}': units: spec 512-byte sectors, header sector-size units" in out, field
    assert "< node 'sector-size' (backend): wording" in out
    assert "< note 12: the header has no note (12)" in out
    assert "Compared: 19 constants;" in out and "documentation of Xen 4.17 to 4.19" in out
    assert out.rstrip().splitlines()[-1].startswith("No difference in what was compared, 11 items of older")


@pytest.mark.skipif(not LINUX, reason="apt-get install linux-headers-amd64")
def test_linux_installed_copy():
    res = run("diff-header", LINUX[-1])
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "(header profile linux)" in out
    # Linux's copy has no BLKIF_OP_RESERVED_1 ...
    assert "- BLKIF_OP_RESERVED_1: missing from the header (spec: 4 (operation))  [specs/blkif.yaml:" in out
    # ... and calls the discard request's handle padding.
    assert ("~ blkif_request_discard.handle: renamed: spec 'handle' at offset 2, header 'u.discard._pad1' (padding)"
            in out)
    # Its union layout is otherwise wire-identical: no size or offset differences.
    assert " size:" not in out and " offset:" not in out
    data = json.loads(run("diff-header", LINUX[-1], "--format", "json").stdout)
    assert data["differs"] is True and data["profile"] == "linux"


@pytest.fixture
def stale_copy(tmp_path) -> Path:
    """Xen's header as an OS tree might have kept it years ago: no indirect
    requests, no discard flag, a field widened, a typedef spelled out."""
    tree = tmp_path / "xen"
    shutil.copytree(XEN, tree, symlinks=True)
    hdr = tree / "io" / "blkif.h"
    text = hdr.read_text()
    start = text.index("struct blkif_request_indirect {")
    end = text.index("typedef struct blkif_request_indirect blkif_request_indirect_t;")
    text = text[:start] + text[end + len("typedef struct blkif_request_indirect blkif_request_indirect_t;"):]
    for old, new in (("#define BLKIF_OP_INDIRECT          6\n", ""),
                     ("#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8\n", ""),
                     ("#define BLKIF_DISCARD_SECURE (1<<0)", "#define BLKIF_DISCARD_SECURE (1<<1)"),
                     ("    uint64_t       nr_sectors;", "    uint32_t       nr_sectors;"),
                     ("    blkif_vdev_t   handle;       /* only for read/write requests         */",
                      "    uint16_t       handle;       /* only for read/write requests         */")):
        assert old in text, old
        text = text.replace(old, new, 1)
    hdr.write_text(text)
    return hdr


@needs_xen
def test_stale_copy_reports_each_difference_with_both_values(stale_copy):
    res = run("diff-header", str(stale_copy), "--profile", "xen-public")
    assert res.returncode == 1, res.stderr
    out = res.stdout
    assert "- BLKIF_OP_INDIRECT: missing from the header (spec: 6 (operation))" in out
    assert "- BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST: missing from the header (spec: 8 (limit))" in out
    assert "~ BLKIF_DISCARD_SECURE: spec 1, header 2" in out
    assert "- blkif_request_indirect: missing from the header (spec: struct blkif_request_indirect)" in out
    assert "~ blkif_vdev_t: renamed: spec blkif_vdev_t, header uint16_t (in blkif_request.handle)" in out
    # The widened field, on every ABI, with the size that follows from it.
    assert ("~ blkif_request_discard.nr_sectors type: spec uint64_t (8 bytes), header uint32_t (4 bytes)"
            in out)
    assert "~ blkif_request_discard size on x86_64, arm32, arm64: spec 32, header 32" not in out
    assert "~ blkif_request_discard size on x86_32: spec 28, header 24" in out
    # Sections in order, then a count.
    assert out.index("Constants:") < out.index("Types:") < out.index("Structs:") < out.index("Layouts:")
    assert out.rstrip().splitlines()[-1].startswith("7 differences, 10 items of older documentation")


def test_missing_file_is_a_clean_error(tmp_path):
    res = run("diff-header", str(tmp_path / "nope.h"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "nope.h" in res.stderr and "not found" in res.stderr


@needs_xen
def test_diff_header_and_validate_agree_on_a_new_opcode(tmp_path):
    """A copy with an opcode the spec lacks: validate rejects it, so diff-header
    must not say it agrees (both exit 1)."""
    shutil.copytree(XEN, tmp_path / "xen")
    hdr = tmp_path / "xen/io/blkif.h"
    text = hdr.read_text()
    anchor = "#define BLKIF_OP_INDIRECT"
    assert anchor in text
    hdr.write_text(text.replace(anchor, "#define BLKIF_OP_SCRUB 9\n" + anchor, 1))
    val = run("validate", "--header", str(hdr))
    diff = run("diff-header", str(hdr))
    assert val.returncode == 1, val.stdout + val.stderr
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "BLKIF_OP_SCRUB" in diff.stdout and "validate --header rejects this header" in diff.stdout
    # Asking for one ABI shows that ABI, with the same verdict.
    one = run("diff-header", str(hdr), "--abi", "x86_64", "--format", "json")
    assert one.returncode == 1, one.stdout + one.stderr
    data = json.loads(one.stdout)
    assert data["differs"] and any("BLKIF_OP_SCRUB" in d["message"] for d in data["validate"])
    ok = run("diff-header", str(XEN / "io/blkif.h"), "--abi", "x86_64")
    assert ok.returncode == 0, ok.stdout + ok.stderr


@needs_xen
def test_a_lone_vendored_copy_says_what_it_misses(tmp_path):
    shutil.copy(XEN / "io/blkif.h", tmp_path / "blkif.h")
    res = run("diff-header", str(tmp_path / "blkif.h"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "ring.h: No such file or directory" in res.stderr
    assert "blkif.h includes ring.h, which is neither beside it" in res.stderr and "/usr/include/xen" in res.stderr
    assert "--include DIR" in res.stderr
    assert "Traceback" not in res.stderr


@needs_xen
def test_include_finds_what_a_lone_copy_includes(tmp_path):
    """--include names the directory its siblings are in: the copy is compared,
    and what it still lacks (protocols.h, not beside it) is named."""
    shutil.copy(XEN / "io/blkif.h", tmp_path / "blkif.h")
    for cmd in (["diff-header", str(tmp_path / "blkif.h")],
                ["validate", "--header", str(tmp_path / "blkif.h")],
                ["layout", "--header", str(tmp_path / "blkif.h"), "--abi", "x86_32"]):
        res = run(*cmd, "--include", str(XEN / "io"))
        assert res.returncode in (0, 1), res.stdout + res.stderr
        assert "No such file" not in res.stdout + res.stderr, cmd
    res = run("diff-header", str(tmp_path / "blkif.h"), "--include", str(XEN / "io"))
    assert res.returncode == 1 and "XEN_IO_PROTO_ABI_X86_64: missing from the header" in res.stdout
    assert "BLKIF_OP_INDIRECT" not in res.stdout       # blkif.h's own content all agrees


@needs_xen
def test_define_reaches_the_header_and_the_cache_tells_them_apart(tmp_path):
    """A copy guarded by a macro its own build defines: --define gets it read;
    without it the error comes back (no stale cache entry of the run with it)."""
    text = (XEN / "io/blkif.h").read_text()
    copy = tmp_path / "io" / "blkif.h"
    shutil.copytree(XEN, tmp_path, dirs_exist_ok=True)
    copy.write_text("#ifndef VENDOR_BUILD\n#error built only inside the vendor tree\n#endif\n"
                    "#if VENDOR_BUILD != 2\n#error wrong vendor build\n#endif\n" + text)
    res = run("diff-header", str(copy), "--define", "VENDOR_BUILD=2")
    assert res.returncode == 0, res.stdout + res.stderr
    for argv in ((), ("--define", "VENDOR_BUILD")):        # VENDOR_BUILD alone is 1
        res = run("diff-header", str(copy), *argv)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "built only inside" in res.stderr or "wrong vendor build" in res.stderr


@pytest.mark.parametrize("argv, message", [
    (["--include", "/no/such/dir"], "--include /no/such/dir: no such directory"),
    (["--define", "1BAD=2"], "'1BAD' is not a macro name"),
    (["--define", "A=x\ny"], "cannot hold a line break"),
])
def test_bad_header_options_are_clear_errors(argv, message):
    for cmd in (["diff-header", str(XEN / "io/blkif.h")], ["validate"], ["layout"]):
        res = run(*cmd, *argv)
        assert res.returncode == 2, res.stdout + res.stderr
        assert message in res.stderr and "Traceback" not in res.stderr
