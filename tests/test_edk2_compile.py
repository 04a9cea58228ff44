"""The EDK2 compile runner (clang, X64 and IA32, EDK2 flags), against the
contract and, when XENDRVGEN_EDK2_TREE names a checkout, against edk2."""
from __future__ import annotations

import os
import shutil

import pytest

from xendrvgen import compile as comp

from test_contract_toolchain import EDK2_PROBE


def _gen(tmp_path):
    gen = tmp_path / "gen" / "edk2"
    gen.mkdir(parents=True)
    (gen / "Probe.c").write_text(EDK2_PROBE)
    return gen.parent


def test_build_x64_and_ia32(tmp_path):
    r = comp.build("edk2", _gen(tmp_path), work_dir=tmp_path / "w")
    assert r.ok, r.log
    assert sorted(p.split("/")[-2] for p in r.artifacts) == ["IA32", "X64"]
    assert any("-mno-red-zone" in a for a in r.command) or r.command


def test_missing_clang_says_what_to_install(tmp_path, monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda t, *a: None if t == "clang" else real(t, *a))
    with pytest.raises(comp.ToolchainMissing, match="apt-get install clang"):
        comp.build("edk2", _gen(tmp_path), work_dir=tmp_path / "w", use_cache=False)


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_EDK2_TREE"),
                    reason="set XENDRVGEN_EDK2_TREE to an edk2 checkout to build against it")
def test_build_against_real_tree(tmp_path):
    r = comp.build("edk2", _gen(tmp_path), tree=os.environ["XENDRVGEN_EDK2_TREE"], work_dir=tmp_path / "w")
    assert r.ok, r.log


def test_breaking_a_tree_header_fails_the_next_build_without_no_cache(tmp_path):
    """The key lists no file of an edk2 tree: what the compiler read (its -MD
    output) is what finds a header broken by a `git pull`."""
    from test_contract_verify import fake_edk2_tree
    tree = fake_edk2_tree(tmp_path / "edk2")
    gen = _gen(tmp_path)
    first = comp.build("edk2", gen, tree=tree, work_dir=tmp_path / "w")
    assert first.ok, first.log
    assert comp.build("edk2", gen, tree=tree, work_dir=tmp_path / "w").cached
    broken = tree / "MdePkg" / "Include" / "Uefi.h"
    broken.write_text(broken.read_text() + "\n#error this header broke\n")
    again = comp.build("edk2", gen, tree=tree, work_dir=tmp_path / "w")
    assert not again.cached and not again.ok
    assert any("this header broke" in e for e in again.errors), again.log
