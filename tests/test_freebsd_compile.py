"""The FreeBSD compile runner: zig cc for amd64 and i386, input-hash cache,
clear errors.  (The rendered xbd/xbb drivers are compiled by the same runner
once their templates exist; here a kernel-style probe stands in.)"""
from __future__ import annotations

import pytest

from xendrvgen import compile as comp
from xendrvgen.compile import ToolchainMissing, _zig

import bsdtrees
from test_contract_toolchain import FREEBSD_PROBE


_gen = bsdtrees.probe_gen


def test_build_both_targets_then_cached(tmp_path):
    gen = _gen(tmp_path, "freebsd", FREEBSD_PROBE)
    r = comp.build("freebsd", gen, work_dir=tmp_path / "w")
    assert r.ok, r.log
    assert sorted(p.split("/")[-2] for p in r.artifacts) == ["x86-freebsd", "x86_64-freebsd"]
    again = comp.build("freebsd", gen, work_dir=tmp_path / "w")
    assert again.cached and again.ok
    (gen / "freebsd" / "probe.c").write_text(FREEBSD_PROBE + "\n/* changed */\n")
    assert not comp.build("freebsd", gen, work_dir=tmp_path / "w").cached


def test_warning_fails_the_build(tmp_path):
    gen = _gen(tmp_path, "freebsd", FREEBSD_PROBE + "\nstatic int unused_fn(void) { return 0; }\n")
    r = comp.build("freebsd", gen, work_dir=tmp_path / "w")
    assert not r.ok
    assert any("unused_fn" in e for e in r.errors + r.warnings), r.log


def test_bad_tree_is_named(tmp_path):
    gen = _gen(tmp_path, "freebsd", FREEBSD_PROBE)
    with pytest.raises(comp.CompileError, match="not a FreeBSD tree"):
        comp.build("freebsd", gen, tree=tmp_path, work_dir=tmp_path / "w")


def test_missing_zig_says_what_to_install(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "ziglang" else real(n, *a))
    with pytest.raises(ToolchainMissing, match="pip install ziglang"):
        _zig.cc()


# --- --tree: a fake tree shaped like a pre-13 FreeBSD tree (tests/bsdtrees.py)
def test_tree_build_gets_past_the_setup(tmp_path):
    """Before 13 there is no sys/contrib/xen/io (-Wmissing-include-dirs under
    -Werror), the tree's sys/param.h redefines zig's __FreeBSD_version, and
    headers include opt_*.h a module build writes."""
    tree = bsdtrees.freebsd_tree(tmp_path / "src")
    gen = _gen(tmp_path, "freebsd", bsdtrees.FREEBSD_PROBE)
    r = comp.build("freebsd", gen, tree=tree, work_dir=tmp_path / "w")
    assert r.ok, r.log
    assert sorted(p.split("/")[-2] for p in r.artifacts) == ["x86-freebsd", "x86_64-freebsd"]
    assert (tmp_path / "w" / "opt" / "x86_64-freebsd" / "opt_xenfake.h").is_file()
    assert (tmp_path / "w" / "opt" / "x86_64-freebsd" / "opt_amd64fake.h").is_file()
    assert not (tmp_path / "w" / "opt" / "x86-freebsd" / "opt_amd64fake.h").exists()
    assert not any("contrib/xen/io" in a or "contrib/ck" in a for a in r.command)


def test_breaking_a_tree_header_fails_the_next_build_without_no_cache(tmp_path):
    bsdtrees.build_after_a_header_broke("freebsd", bsdtrees.freebsd_tree(tmp_path / "src"),
                                        _gen(tmp_path, "freebsd", bsdtrees.FREEBSD_PROBE), tmp_path / "w",
                                        bsdtrees.FREEBSD_BREAK)


@pytest.mark.skipif(not __import__("os").environ.get("XENDRVGEN_FREEBSD_TREE"),
                    reason="set XENDRVGEN_FREEBSD_TREE to a FreeBSD source checkout to build against it")
def test_generated_drivers_against_a_real_tree(tmp_path):
    """Past the build set-up: what fails is the tree's API, never the set-up."""
    import os
    setup = bsdtrees.real_tree_setup_errors("freebsd", os.environ["XENDRVGEN_FREEBSD_TREE"], tmp_path,
                                            ("-Wmissing-include-dirs", "__FreeBSD_version", "opt_", "makeobjops"))
    assert not setup, "\n".join(setup)
