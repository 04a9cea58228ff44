"""The NetBSD compile runner (zig cc, x86_64-netbsd, contract headers)."""
from __future__ import annotations

import pytest

from xendrvgen import compile as comp

import bsdtrees
from test_contract_toolchain import NETBSD_PROBE


def _probe(tmp_path, source):
    return bsdtrees.probe_gen(tmp_path, "netbsd", source)


def test_build_and_cache(tmp_path):
    gen = _probe(tmp_path, NETBSD_PROBE)
    r = comp.build("netbsd", gen, work_dir=tmp_path / "w")
    assert r.ok, r.log
    assert [p.split("/")[-2] for p in r.artifacts] == ["x86_64-netbsd"]
    assert comp.build("netbsd", gen, work_dir=tmp_path / "w").cached


def test_no_sources_is_a_clear_error(tmp_path):
    (tmp_path / "gen" / "netbsd").mkdir(parents=True)
    with pytest.raises(comp.CompileError, match="no driver sources"):
        comp.build("netbsd", tmp_path / "gen", work_dir=tmp_path / "w")


# --- --tree: a fake tree shaped like a NetBSD Xen kernel tree (tests/bsdtrees.py)


def test_tree_build_is_set_up_as_a_xen_kernel_build(tmp_path):
    """zig's own __NetBSD_Version__ is not a -Werror redefinition, opt_xen.h
    is written as config(1) would (XEN, DOM0OPS set), machine/ is the Xen
    overrides with amd64's headers behind them."""
    tree = bsdtrees.netbsd_tree(tmp_path / "src")
    r = comp.build("netbsd", _probe(tmp_path, bsdtrees.NETBSD_PROBE), tree=tree, work_dir=tmp_path / "w")
    assert r.ok, r.log
    opt = (tmp_path / "w" / "opt" / "x86_64-netbsd" / "opt_xen.h").read_text()
    assert "#define\tXEN\t1" in opt and "#define\tDOM0OPS\t1" in opt and "#define\tXENPV\t1" in opt
    assert "PAE' not defined" in opt
    assert "FAKE_PARAM" in (tmp_path / "w" / "opt" / "x86_64-netbsd" / "opt_fake.h").read_text()
    assert (tmp_path / "w" / "opt" / "x86_64-netbsd" / "opt_ktrace.h").is_file()


def test_breaking_a_tree_header_fails_the_next_build_without_no_cache(tmp_path):
    bsdtrees.build_after_a_header_broke("netbsd", bsdtrees.netbsd_tree(tmp_path / "src"),
                                        _probe(tmp_path, bsdtrees.NETBSD_PROBE), tmp_path / "w",
                                        bsdtrees.NETBSD_BREAK)


@pytest.mark.skipif(not __import__("os").environ.get("XENDRVGEN_NETBSD_TREE"),
                    reason="set XENDRVGEN_NETBSD_TREE to a NetBSD source checkout to build against it")
def test_generated_drivers_against_a_real_tree(tmp_path):
    """Past the build set-up: what fails is the tree's API, never the set-up."""
    import os
    setup = bsdtrees.real_tree_setup_errors("netbsd", os.environ["XENDRVGEN_NETBSD_TREE"], tmp_path,
                                            ("__NetBSD_Version__", "opt_"))
    assert not setup, "\n".join(setup)
