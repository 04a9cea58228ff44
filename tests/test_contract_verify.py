"""`xendrvgen contract verify`: each contract declaration against a tree's.

CI has no OS source tree, so these tests build a small edk2-shaped tree out
of the contract headers themselves (each at the path the manifest names),
check that it verifies clean, then change one declaration in the tree and
check that exactly that declaration is reported.  A real edk2 checkout is
used when XENDRVGEN_EDK2_TREE names one.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen import contract

ROOT = Path(__file__).resolve().parents[1]
EDK2 = ROOT / "contracts" / "edk2"


def fake_edk2_tree(dst: Path) -> Path:
    man = contract.manifest("edk2")
    for h in man["headers"]:
        rels = h["tree"] if isinstance(h["tree"], list) else [h["tree"]]
        target = dst / rels[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EDK2 / "include" / h["path"], target)
    # The tree's Uefi.h: the contract's Uefi.h stands in for it (the probe file).
    shutil.copy(EDK2 / "include" / "Uefi.h", dst / "MdePkg" / "Include" / "Uefi.h")
    return dst


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return fake_edk2_tree(tmp_path_factory.mktemp("edk2"))


def test_contract_matches_its_own_image(tree):
    rep = contract.verify("edk2", tree)
    bad = [f for f in rep.findings if f.status in ("differs", "missing")]
    assert not bad, rep.render()
    names = {f.name for f in rep.findings}
    # The surface the driver uses is really compared, not skipped.
    for n in ("XENBUS_GRANT_ACCESS", "_XENBUS_PROTOCOL", "EFI_BLOCK_IO_MEDIA", "MemoryFence",
              "AllocatePages", "XenbusStateConnected", "EFI_DRIVER_BINDING_START"):
        assert n in names


def test_changed_parameter_type_is_reported(tree, tmp_path):
    t = fake_edk2_tree(tmp_path / "t")
    xb = t / "OvmfPkg" / "Include" / "Protocol" / "XenBus.h"
    text = xb.read_text()
    assert "BOOLEAN ReadOnly" in text
    xb.write_text(text.replace("BOOLEAN ReadOnly", "UINT32 ReadOnly"))
    rep = contract.verify("edk2", t)
    bad = {(f.name, f.status) for f in rep.findings if f.status in ("differs", "missing")}
    assert ("XENBUS_GRANT_ACCESS", "differs") in bad
    f = next(f for f in rep.findings if f.name == "XENBUS_GRANT_ACCESS")
    assert "unsigned char" in f.contract and "unsigned int" in f.tree
    assert rep.failed


def test_missing_function_and_changed_macro_are_reported(tmp_path):
    t = fake_edk2_tree(tmp_path / "t")
    bl = t / "MdePkg" / "Include" / "Library" / "BaseLib.h"
    bl.write_text(bl.read_text().replace("VOID EFIAPI MemoryFence (VOID);", ""))
    bio = t / "MdePkg" / "Include" / "Protocol" / "BlockIo.h"
    bio.write_text(bio.read_text().replace("REVISION3  0x0002001F", "REVISION3  0x0002001E"))
    rep = contract.verify("edk2", t)
    got = {(f.name, f.status) for f in rep.findings}
    assert ("MemoryFence", "missing") in got
    assert ("EFI_BLOCK_IO_PROTOCOL_REVISION3", "differs") in got


def test_cli_exit_codes(tmp_path):
    t = fake_edk2_tree(tmp_path / "t")
    run = lambda *a: subprocess.run([sys.executable, "-m", "xendrvgen.cli", *a], cwd=ROOT,
                                    capture_output=True, text=True)
    r = run("contract", "verify", "--os", "edk2", "--tree", str(t))
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("contract", "verify", "--os", "edk2", "--tree", str(tmp_path / "nope"))
    assert r.returncode == 2 and "not a directory" in r.stderr
    r = run("contract", "verify", "--os", "edk2", "--tree", str(tmp_path))
    assert r.returncode == 2 and "not a edk2 source tree" in r.stderr
    r = run("contract", "verify", "--os", "plan9", "--tree", str(t))
    assert r.returncode == 2 and "no contract for OS 'plan9'" in r.stderr


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_EDK2_TREE"),
                    reason="set XENDRVGEN_EDK2_TREE to an edk2 checkout to verify the contract against it")
def test_real_edk2_tree():
    rep = contract.verify("edk2", os.environ["XENDRVGEN_EDK2_TREE"])
    assert not rep.failed, rep.render()


def _decls(path: Path) -> dict:
    ci = contract._cindex()
    opts = ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
    tu = ci.Index.create().parse(str(path), args=["-x", "c", "-std=gnu11"], options=opts)
    return contract._collect(tu, lambda f, p=str(path): f == p)


def test_anonymous_member_types_and_continuations_compare_equal(tmp_path):
    """An anonymous struct member is spelled with its place of declaration, and
    libclang may return a line-continuation backslash as a macro token: neither
    may make two identical declarations in different files differ."""
    a, b = tmp_path / "a.h", tmp_path / "b.h"
    a.write_text("struct w {\n\tstruct { struct w *le_next; } list;\n\tint n;\n};\n"
                 "#define M(_r) ({ \\\n    int x = (_r); \\\n    x; \\\n})\n")
    b.write_text("\n\nstruct w { struct { struct w *le_next; } list;    int n; };\n"
                 "#define M(_r) ({                 \\\n    int x = (_r);     \\\n    x;                \\\n})\n")
    da, db = _decls(a), _decls(b)
    assert da["w"].value == db["w"].value
    assert "at " not in str(da["w"].value)
    assert da["M"].value == db["M"].value and "\\" not in da["M"].value


# --- typedef-aware comparison, places named in the tree, the tree read as its kernel build reads it
def _tu(path: Path):
    ci = contract._cindex()
    return ci.Index.create().parse(str(path), args=["-x", "c", "-std=gnu11"],
                                   options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)


def test_a_struct_tag_renamed_behind_a_typedef_is_one_note_not_a_difference_per_use(tmp_path):
    """FreeBSD 14 renamed `struct device` to `struct _device` behind device_t:
    every signature passing a device_t must still match."""
    from types import SimpleNamespace
    a, b = tmp_path / "a.h", tmp_path / "b.h"
    a.write_text("typedef struct device *device_t;\nint probe(device_t);\nstruct s { device_t dev; };\n")
    b.write_text("typedef struct _device *device_t;\nint probe(device_t);\nstruct s { device_t dev; };\n"
                 "int other(struct _device *);\n")
    c_tags, t_tags = {}, {}
    contract._typedef_tags(_tu(a), c_tags)
    contract._typedef_tags(_tu(b), t_tags)
    aliases = contract._tag_aliases(c_tags, t_tags)
    assert aliases == {"device": ("_device", "device_t")}
    c_decls, t_decls = _decls(a), _decls(b)
    rep = contract.Report("freebsd", str(tmp_path))
    h = {"path": "a.h", "tree": "b.h"}
    contract._compare(rep, h, {}, a, contract._renamed(c_decls, aliases), t_decls, {}, tmp_path, tmp_path)
    assert not rep.failed, rep.render()
    # Without the alias, the same declarations differ.
    rep2 = contract.Report("freebsd", str(tmp_path))
    contract._compare(rep2, h, {}, a, c_decls, t_decls, {}, tmp_path, tmp_path)
    assert {f.name for f in rep2.findings if f.status == "differs"} >= {"probe", "s", "device_t"}
    assert not contract._tag_aliases({"device_t": "device"}, {"device_t": "device"})


def test_places_name_the_trees_own_files(tmp_path):
    tree, work = tmp_path / "tree", tmp_path / "work"
    (tree / "sys" / "arch" / "xen" / "include" / "amd64").mkdir(parents=True)
    (tree / "sys" / "arch" / "xen" / "include" / "amd64" / "hypercalls.h").write_text("")
    (work / "links").mkdir(parents=True)
    (work / "links" / "machine").symlink_to(tree / "sys" / "arch" / "xen" / "include" / "amd64")
    place = contract._placer(tree, work)
    assert place(f"{work}/links/machine/hypercalls.h:245") == "sys/arch/xen/include/amd64/hypercalls.h:245"
    assert place(f"{work}/methods/device_if.h:12") == "sys/kern/device_if.m (generated device_if.h):12"
    assert place("sys/dev/dkvar.h:3") == "sys/dev/dkvar.h:3"         # already the tree's, left alone


def test_netbsd_tree_is_read_as_a_xen_kernel_build_reads_it(tmp_path):
    """machine/ is arch/xen/include/amd64 (where HYPERVISOR_* live), with
    arch/amd64/include behind it; opt_xen.h exists; zig's version macro is dropped."""
    import bsdtrees
    tree = bsdtrees.netbsd_tree(tmp_path / "src")
    dirs, flags = contract._tree_includes(contract.manifest("netbsd"), tree, tmp_path / "w")
    found = [d / "machine" / "hypercalls.h" for d in dirs if (d / "machine" / "hypercalls.h").is_file()]
    assert found and found[0].resolve() == tree / "sys/arch/xen/include/amd64/hypercalls.h"
    assert any((d / "machine" / "fake_md.h").is_file() for d in dirs)
    assert any((d / "opt_xen.h").is_file() for d in dirs)
    assert "-U__NetBSD_Version__" in flags


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_NETBSD_TREE"),
                    reason="set XENDRVGEN_NETBSD_TREE to a NetBSD source checkout to verify the contract against it")
def test_real_netbsd_tree():
    rep = contract.verify("netbsd", os.environ["XENDRVGEN_NETBSD_TREE"])
    text = rep.render()
    assert "/tmp" not in text.replace(rep.tree, ""), text          # the tree's files, not temporary ones
    hv = [f for f in rep.findings if f.name == "HYPERVISOR_event_channel_op"]
    assert hv and hv[0].status != "missing", text


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_FREEBSD_TREE"),
                    reason="set XENDRVGEN_FREEBSD_TREE to a FreeBSD source checkout to verify the contract against it")
def test_real_freebsd_tree():
    rep = contract.verify("freebsd", os.environ["XENDRVGEN_FREEBSD_TREE"])
    text = rep.render()
    assert "/tmp" not in text.replace(rep.tree, ""), text
    renamed = [f for f in rep.findings if f.status == "differs" and "struct device" in f.contract + f.tree
               and "struct _device" in f.contract + f.tree]
    assert not renamed, text
