"""The NetBSD compile runner (zig cc, x86_64-netbsd, contract headers)."""
from __future__ import annotations

import pytest

from xendrvgen import compile as comp

from test_contract_toolchain import NETBSD_PROBE


def test_build_and_cache(tmp_path):
    gen = tmp_path / "gen" / "netbsd"
    gen.mkdir(parents=True)
    (gen / "probe.c").write_text(NETBSD_PROBE)
    r = comp.build("netbsd", gen.parent, work_dir=tmp_path / "w")
    assert r.ok, r.log
    assert [p.split("/")[-2] for p in r.artifacts] == ["x86_64-netbsd"]
    assert comp.build("netbsd", gen.parent, work_dir=tmp_path / "w").cached


def test_no_sources_is_a_clear_error(tmp_path):
    (tmp_path / "gen" / "netbsd").mkdir(parents=True)
    with pytest.raises(comp.CompileError, match="no driver sources"):
        comp.build("netbsd", tmp_path / "gen", work_dir=tmp_path / "w")
