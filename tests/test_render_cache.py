"""The render cache (issue 14): `check` and `generate` reuse a rendered file
only while everything that shapes it is unchanged.  For each kind of input
(spec, OS profile, template, an imported macro file, generator version and
code, limits, a new OS) a change means a re-render and the right verdict,
never a stale "up to date"; a damaged or stray entry is a miss."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen.base import cachefile
from xendrvgen.render import cache as rendercache, writer
from xendrvgen.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def proj(tmp_path, monkeypatch) -> Path:
    """A project with copies of the spec, OS profiles and templates, generated
    once (which fills a private render cache); the working directory."""
    (tmp_path / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "blkif.yaml", tmp_path / "specs" / "blkif.yaml")
    shutil.copytree(ROOT / "specs" / "os", tmp_path / "specs" / "os")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XENDRVGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XENDRVGEN_NO_CACHE", raising=False)
    monkeypatch.delenv("XENDRVGEN_LIMITS", raising=False)
    assert run("generate")[0] == 0
    return tmp_path


def run(*argv) -> tuple[int, str]:
    """A command on the project copy, in this process; (exit code, stdout + stderr)."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([argv[0], "--profiles", "specs/os", "--templates", "templates", *argv[1:]])
    return code, out.getvalue() + err.getvalue()


def check() -> tuple[int, str]:
    return run("check", "--no-validate")


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The files rendered (not taken from the cache) from now on, by banner."""
    seen = []
    compose = writer.compose

    def spy(body, **kw):
        seen.append(f"{kw['os_name']}:{kw['template']}")
        return compose(body, **kw)
    monkeypatch.setattr(writer, "compose", spy)
    return seen


def entries(proj: Path) -> list[Path]:
    return sorted((proj / "cache" / "rendered").glob("*.json"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def stale(out: str) -> set[str]:
    return {ln.split(": ")[0] for ln in out.splitlines() if ": stale:" in ln}


def test_nothing_changed_renders_nothing(proj, renders):
    code, out = check()
    assert code == 0 and "up to date" in out and renders == []
    assert len(entries(proj)) == len(list((proj / "specs" / "os").glob("*.yaml")))


def test_a_hit_imports_neither_jinja_nor_the_spec_model(proj):
    code = ("import sys; from xendrvgen.cli import main; "
            "c = main(['check', '--no-validate', '--profiles', 'specs/os', '--templates', 'templates']); "
            "print(c, sorted(m for m in ('jinja2', 'xendrvgen.render.environment', 'xendrvgen.spec.model', 'xendrvgen.spec') "
            "if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=proj)
    assert res.stdout.splitlines()[-1] == "0 []", res.stdout + res.stderr


def test_spec_edit(proj, renders):
    edit(proj / "specs" / "blkif.yaml", "BLKIF_OP_READ\n    value: 0\n", "BLKIF_OP_READ\n    value: 10\n")
    code, out = check()
    assert code == 1 and "generated/freebsd/sys/contrib/xen/io/blkif.h" in stale(out), out
    assert renders                                         # rendered afresh, not from the entry
    assert run("generate")[0] == 0 and check()[0] == 0


def test_os_profile_edit(proj, renders):
    edit(proj / "specs" / "os" / "freebsd.yaml", "SPDX-License-Identifier: MIT", "SPDX-License-Identifier: BSD-2-Clause")
    code, out = check()
    assert code == 1 and stale(out) and all(p.startswith("generated/freebsd/") for p in stale(out)), out
    assert {r.split(":")[0] for r in renders} == {"freebsd"}


def test_template_edit_renders_only_the_files_that_read_it(proj, renders):
    edit(proj / "templates" / "freebsd" / "Makefile.j2", ".include <bsd.subdir.mk>", ".include <bsd.subdir.mk>\n# edited")
    code, out = check()
    assert code == 1 and stale(out) == {"generated/freebsd/Makefile"}, out
    assert renders == ["freebsd:freebsd/Makefile.j2"]
    renders.clear()                                         # remembered by that check:
    assert run("generate")[0] == 0 and check()[0] == 0 and renders == []


def test_imported_macro_file_edit(proj, renders):
    edit(proj / "templates" / "common" / "macros.j2", '{% macro lines(items) %}{{',
         '{% macro lines(items) %}/* edited */{{')
    code, out = check()
    assert code == 1 and "generated/freebsd/sys/contrib/xen/io/blkif.h" in stale(out), out
    assert "generated/freebsd/Makefile" not in stale(out)
    assert "freebsd:freebsd/Makefile.j2" not in renders    # it does not import macros.j2


def test_generator_version_change(proj, monkeypatch, renders):
    monkeypatch.setattr(writer, "__version__", "99.0")     # what the banner names
    monkeypatch.setattr(rendercache, "__version__", "99.0")
    code, out = check()
    assert code == 1 and len(stale(out)) == sum(1 for p in (proj / "generated").rglob("*") if p.is_file()), out


def test_generator_code_change(proj, monkeypatch):
    monkeypatch.setattr(rendercache.inputstamp, "code_digest", lambda: "another version of xendrvgen/")
    monkeypatch.setattr(writer, "ZERO", "f" * 64)          # output that code would write
    code, out = check()
    assert code == 1, out


def test_limits_are_part_of_the_key(proj, monkeypatch):
    monkeypatch.setenv("XENDRVGEN_LIMITS", "description-chars=20")
    code, out = check()
    assert code == 2 and "description-chars" in out, out   # refused, as without a cache


def test_a_new_os_profile_is_picked_up(proj):
    src = (proj / "specs" / "os" / "freebsd.yaml").read_text()
    (proj / "specs" / "os" / "freebsd2.yaml").write_text(src.replace("name: freebsd\n", "name: freebsd2\n", 1))
    code, out = check()
    assert code == 1 and "generated/freebsd2/Makefile: missing" in out, out


def _resealed(change):
    def damage(data: bytes) -> bytes:
        body = cachefile.unseal(rendercache._TAG, data)
        return cachefile.seal(rendercache._TAG, change(json.loads(body)))
    return damage


def _forge_text(entry):
    entry["files"][0][2] = entry["files"][0][2].replace("0", "9")
    entry["inputs"] = "0" * 64
    return json.dumps(entry).encode()


DAMAGES = {
    "flipped byte": lambda b: b[:len(b) // 2] + bytes([b[len(b) // 2] ^ 1]) + b[len(b) // 2 + 1:],
    "truncated": lambda b: b[:len(b) // 2],
    "empty": lambda b: b"",
    "not sealed": lambda b: b.partition(b"\n")[2],
    "wrong shape, sealed": _resealed(lambda e: b"[1, 2]"),
    "other format, sealed": _resealed(lambda e: json.dumps({**e, "format": 0}).encode()),
    "other inputs, text forged, sealed": _resealed(_forge_text),
    "path outside the OS, sealed": _resealed(lambda e: json.dumps(
        {**e, "files": [["../x", *e["files"][0][1:]]] + e["files"][1:]}).encode()),
    "wrong type deep inside, sealed": _resealed(lambda e: json.dumps(
        {**e, "files": [[*e["files"][0][:3], [["common/macros.j2", 7]]]] + e["files"][1:]}).encode()),
    "deeply nested, sealed": _resealed(lambda e: b"[" * 100000 + b"]" * 100000),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_entry_is_a_miss(proj, damage, renders):
    for entry in entries(proj):
        clean = entry.read_bytes()
        entry.write_bytes(DAMAGES[damage](clean))
        gen = proj / "generated" / json.loads(clean.partition(b"\n")[2])["files"][0][0]
        gen.write_text(gen.read_text().replace("0", "9"))   # what a forged entry would hide
        code, out = check()
        assert code == 1 and str(gen.relative_to(proj)) in out, out
        assert entry.read_bytes() == clean                  # rendered afresh and rewritten
        assert run("generate", "--force")[0] == 0
    assert renders


def test_a_directory_in_place_of_an_entry(proj):
    entry = entries(proj)[0]
    entry.unlink()
    entry.mkdir()
    assert check()[0] == 0


def test_no_cache_turns_it_off(proj, monkeypatch, renders):
    monkeypatch.setenv("XENDRVGEN_NO_CACHE", "1")
    assert check()[0] == 0 and renders
