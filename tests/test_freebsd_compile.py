"""The FreeBSD compile runner: zig cc for amd64 and i386, input-hash cache,
clear errors.  (The rendered xbd/xbb drivers are compiled by the same runner
once their templates exist; here a kernel-style probe stands in.)"""
from __future__ import annotations

import pytest

from xendrvgen import compile as comp
from xendrvgen.compile import ToolchainMissing, _zig

from test_contract_toolchain import FREEBSD_PROBE


def _gen(tmp_path, os_name, source):
    d = tmp_path / "gen" / os_name
    d.mkdir(parents=True)
    (d / "probe.c").write_text(source)
    return tmp_path / "gen"


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
