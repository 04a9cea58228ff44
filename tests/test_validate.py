"""`xendrvgen validate` and `layout` against the real installed headers and
against copies of Xen's header with exactly one change each."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xendrvgen.cli import main

XEN_DIR = Path("/usr/include/xen")
XEN_BLKIF = XEN_DIR / "io" / "blkif.h"
LINUX_BLKIF = sorted(Path("/usr/src").glob("linux-headers-*-common/include/xen/interface/io/blkif.h"))
ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "specs" / "blkif.yaml")

needs_xen = pytest.mark.skipif(not XEN_BLKIF.exists(), reason="needs Xen's headers: apt-get install libxen-dev")
needs_linux = pytest.mark.skipif(not LINUX_BLKIF, reason="needs Linux's headers: apt-get install linux-headers-amd64")


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@needs_xen
@needs_linux
def test_installed_headers_validate(capsys):
    code, out, err = run(capsys, "validate", "--spec", SPEC)
    assert code == 0, out + err
    assert str(XEN_BLKIF) in out and str(LINUX_BLKIF[-1]) in out
    # Linux's copy is restructured: it validates, with notes for what it lacks.
    linux = [line for line in out.splitlines() if line.startswith(str(LINUX_BLKIF[-1]))][0]
    assert "matches the spec" in linux and "notes" in linux
    assert "no XenStore node documentation" in out
    assert "the header calls this field 'u.discard._pad1' (padding)" in out


@needs_xen
def test_validate_json(capsys):
    code, out, _ = run(capsys, "validate", "--spec", SPEC, "--header", str(XEN_BLKIF), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["headers"][0]["profile"] == "xen-public"
    assert data["headers"][0]["compared"]["nodes"] >= 30


@needs_xen
def test_layout_from_header(capsys):
    code, out, _ = run(capsys, "layout", "--spec", SPEC, "--format", "json")
    assert code == 0
    req = json.loads(out)["structs"]["blkif_request"]
    assert req["x86_32"]["header"]["size"] == 108 and req["x86_64"]["header"]["size"] == 112
    assert req["x86_32"]["header"]["offsets"]["id"] == 4 and req["x86_64"]["header"]["offsets"]["id"] == 8
    code, out, _ = run(capsys, "layout", "--spec", SPEC, "--abi", "x86_32,x86_64")
    assert code == 0 and "struct blkif_request " in out and "108" in out


@pytest.fixture
def xen_copy(tmp_path):
    """A private copy of Xen's public headers (blkif.h includes ../grant_table.h)."""
    if not XEN_BLKIF.exists():
        pytest.skip("needs Xen's headers: apt-get install libxen-dev")
    dst = tmp_path / "xen"
    shutil.copytree(XEN_DIR, dst)
    return dst / "io" / "blkif.h"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


MUTATIONS = {
    "constant value": ("#define BLKIF_OP_INDIRECT          6", "#define BLKIF_OP_INDIRECT          7",
                       "In constant 'BLKIF_OP_INDIRECT': value: spec 6, header 7"),
    "field renamed": ("    uint64_t        id;              /* copied from request */",
                      "    uint64_t        ident;           /* copied from request */",
                      "In struct 'blkif_response' field 'id': name at offset 0: spec 'id', header 'ident'"),
    "field widened": ("    uint8_t        flag;         /* BLKIF_DISCARD_SECURE or zero         */",
                      "    uint16_t       flag;         /* BLKIF_DISCARD_SECURE or zero         */",
                      "In struct 'blkif_request_discard' field 'flag': offset: spec 1, header 2; "
                      "type: spec uint8_t (1 bytes), header uint16_t (2 bytes)"),
    "field moved": ("    blkif_sector_t sector_number;/* start sector idx on disk (r/w only)  */\n"
                    "    blkif_vdev_t   handle;       /* same as for read/write requests      */\n",
                    "    blkif_vdev_t   handle;       /* same as for read/write requests      */\n"
                    "    blkif_sector_t sector_number;/* start sector idx on disk (r/w only)  */\n",
                    "In struct 'blkif_request_indirect' field 'handle': on x86_64, arm32, arm64: offset: spec 24, header 16"),
    "node default": (" * feature-large-sector-size\n *      Values:         0/1 (boolean)\n *      Default Value:  0",
                     " * feature-large-sector-size\n *      Values:         0/1 (boolean)\n *      Default Value:  1",
                     "In node 'feature-large-sector-size' (frontend): default: spec '0', header '1'"),
    "node deprecated": (" * max-ring-page-order\n *      Values:         <uint32_t>\n *      Default Value:  0\n"
                        " *      Notes:          1, 3",
                        " * max-ring-page-order\n *      Values:         <uint32_t>\n *      Default Value:  0\n"
                        " *      Notes:          DEPRECATED, 1, 3",
                        "In node 'max-ring-page-order' (backend): deprecated: spec no, header yes"),
    "new opcode": ("#define BLKIF_OP_INDIRECT          6\n",
                   "#define BLKIF_OP_INDIRECT          6\n#define BLKIF_OP_ZONE_APPEND       7\n",
                   "the header defines BLKIF_OP_ZONE_APPEND = 7"),
    "new node": (" * trusted\n", " * feature-zoned\n *      Values:         0/1 (boolean)\n *      Default Value:  0\n"
                 " *\n *      Zoned devices.\n *\n * trusted\n",
                 "In node 'feature-zoned' (frontend): the header documents this node"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_one_change_is_caught(name, xen_copy, capsys):
    old, new, expected = MUTATIONS[name]
    edit(xen_copy, old, new)
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(xen_copy))
    assert code == 1, out + err
    mismatches = [line for line in out.splitlines() if "mismatch:" in line]
    assert mismatches, out
    assert any(expected in line for line in mismatches), out
    # Exactly that element is named, nothing else (a moved or widened field
    # moves the ones after it too, so the element is the struct).
    element = expected.split(":")[0].split(" field ")[0]
    assert all(element in line for line in mismatches), "\n".join(mismatches)


def test_missing_header(capsys, tmp_path):
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(tmp_path / "nope" / "blkif.h"))
    assert code == 2
    assert "header not found" in err and "Traceback" not in err


def test_header_that_does_not_preprocess(capsys, xen_copy):
    edit(xen_copy, '#include "ring.h"', '#include "no-such-ring.h"')
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(xen_copy))
    assert code == 2
    assert f"{xen_copy}:" in err and "no-such-ring.h" in err


def test_header_with_syntax_error(capsys, xen_copy):
    edit(xen_copy, "    uint8_t         operation;       /* copied from request */",
         "    uint8_t         operation        /* copied from request */")
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(xen_copy))
    assert code == 2
    assert f"{xen_copy}:" in err and "Traceback" not in err


def test_cached_facts_are_dropped_when_the_header_changes(xen_copy, capsys):
    """The header-facts cache keys on every file read: an edit is seen at once."""
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(xen_copy))
    assert code == 0, out + err
    old, new, expected = MUTATIONS["constant value"]
    edit(xen_copy, old, new)
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(xen_copy))
    assert code == 1 and expected in out
    # An include of the header counts too: ring.h changes the slot layout.
    edit(xen_copy, new, old)
    ring = xen_copy.parent / "ring.h"
    ring.write_text(ring.read_text().replace("uint8_t __pad[44];", "uint8_t __pad[40];"))
    code, out, err = run(capsys, "validate", "--spec", SPEC, "--header", str(xen_copy))
    assert code == 1 and "offset of the first slot: spec 64, header 60" in out
