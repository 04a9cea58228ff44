"""The validation-verdict cache (issue 14): `validate` and the validation in
`check` reuse a remembered report only while everything that shapes it is
unchanged.  For each kind of input (the spec, a header copy, a file it
includes, a header profile, the documentation baseline, the set of installed
copies, the generator's code, limits) a change means a fresh validation and
the right verdict; a damaged, forged or planted entry is a miss, never a
crash or a forged verdict."""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from xendrvgen.base import cachefile
from xendrvgen.cli import main
from xendrvgen.headers import profiles
from xendrvgen.headers.compare import validate as validate_mod, verdictcache

XEN_DIR = Path("/usr/include/xen")
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not (XEN_DIR / "io" / "blkif.h").exists(),
                                reason="needs Xen's headers: apt-get install libxen-dev")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private cache, a copy of the spec and of Xen's headers, and a count
    of the validations that ran (rather than came from the cache)."""
    monkeypatch.setenv("XENDRVGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XENDRVGEN_NO_CACHE", raising=False)
    monkeypatch.delenv("XENDRVGEN_LIMITS", raising=False)
    shutil.copytree(XEN_DIR, tmp_path / "xen")
    spec = tmp_path / "blkif.yaml"
    shutil.copy(ROOT / "specs" / "blkif.yaml", spec)
    runs = []
    real = validate_mod.validate_all

    def counted(*a, **kw):
        runs.append(1)
        return real(*a, **kw)
    monkeypatch.setattr(validate_mod, "validate_all", counted)
    return dataclasses.make_dataclass("Env", ["tmp", "spec", "header", "runs"])(
        tmp_path, spec, tmp_path / "xen" / "io" / "blkif.h", runs)


def run(*argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue() + err.getvalue()


def validate(env, *more) -> tuple[int, str]:
    return run("validate", "--spec", str(env.spec), "--header", str(env.header), *more)


def entries(env) -> list[Path]:
    d = env.tmp / "cache" / "verdicts"
    return sorted(p for p in d.iterdir() if p.suffix == ".json") if d.is_dir() else []


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_repeat_is_remembered_in_every_format(env, monkeypatch):
    """One validation answers every format, each as a fresh one would."""
    remembered = {f: validate(env, "--format", f) for f in verdictcache.FORMATS}
    assert len(env.runs) == 1 and len(entries(env)) == 1
    monkeypatch.setenv("XENDRVGEN_NO_CACHE", "1")
    fresh = {f: validate(env, "--format", f) for f in verdictcache.FORMATS}
    assert len(env.runs) == 4
    assert remembered == fresh
    assert fresh["text"][0] == 0 and "matches the spec" in fresh["text"][1]


def test_a_remembered_mismatch_still_fails(env):
    edit(env.header, "#define BLKIF_OP_WRITE_BARRIER     2", "#define BLKIF_OP_WRITE_BARRIER     9")
    assert validate(env)[0] == 1
    code, out = validate(env)
    assert code == 1 and "BLKIF_OP_WRITE_BARRIER" in out and len(env.runs) == 1


def test_header_edit(env):
    assert validate(env)[0] == 0
    edit(env.header, "#define BLKIF_OP_WRITE_BARRIER     2", "#define BLKIF_OP_WRITE_BARRIER     9")
    code, out = validate(env)
    assert code == 1 and "BLKIF_OP_WRITE_BARRIER" in out, out


def test_included_file_edit(env):
    assert validate(env)[0] == 0
    ring = env.tmp / "xen" / "io" / "ring.h"
    ring.write_text(ring.read_text() + "\n/* touched */\n")
    assert validate(env)[0] == 0 and len(env.runs) == 2


def test_spec_edit(env):
    assert validate(env)[0] == 0
    edit(env.spec, "  - name: BLKIF_OP_WRITE_BARRIER\n    value: 2\n", "  - name: BLKIF_OP_WRITE_BARRIER\n    value: 7\n")
    code, out = validate(env)
    assert code == 1 and "BLKIF_OP_WRITE_BARRIER" in out, out


def test_spec_named_otherwise(env, monkeypatch):
    """Positions in the report name the spec as given: another name is another entry."""
    assert validate(env, "--format", "json")[0] == 0
    monkeypatch.chdir(env.tmp)
    code, out = run("validate", "--spec", "blkif.yaml", "--header", str(env.header), "--format", "json")
    assert code == 0 and json.loads(out)["spec"] == "blkif.yaml" and len(env.runs) == 2


@pytest.fixture
def own_data(env, monkeypatch):
    """Private copies of the header profiles and documentation baseline the cache keys on."""
    d = env.tmp / "headers"
    shutil.copytree(ROOT / "specs" / "headers", d)
    monkeypatch.setattr(verdictcache, "HEADER_PROFILES_DIR", d)
    monkeypatch.setattr(verdictcache, "DOC_BASELINE", d / "docs" / "xen-blkif.yaml")
    return d


def test_header_profile_edit(env, own_data):
    assert validate(env)[0] == 0
    with open(own_data / "xen-public.yaml", "a") as f:
        f.write("# touched\n")
    assert validate(env)[0] == 0 and len(env.runs) == 2
    assert validate(env)[0] == 0 and len(env.runs) == 2


def test_new_header_profile(env, own_data):
    assert validate(env)[0] == 0
    shutil.copy(own_data / "linux.yaml", own_data / "another.yaml")
    assert validate(env)[0] == 0 and len(env.runs) == 2


def test_doc_baseline_edit(env, own_data):
    assert validate(env)[0] == 0
    with open(own_data / "docs" / "xen-blkif.yaml", "a") as f:
        f.write("# touched\n")
    assert validate(env)[0] == 0 and len(env.runs) == 2


def test_generator_code_change(env, monkeypatch):
    assert validate(env)[0] == 0
    monkeypatch.setattr(verdictcache.inputstamp, "code_digest", lambda: "another xendrvgen")
    assert validate(env)[0] == 0 and len(env.runs) == 2


def test_limits_are_part_of_the_key(env, monkeypatch):
    assert validate(env)[0] == 0
    monkeypatch.setenv("XENDRVGEN_LIMITS", "spec-bytes=10")
    code, out = validate(env)
    assert code == 2 and "spec-bytes" in out, out


def test_options_are_part_of_the_key(env):
    assert validate(env)[0] == 0
    code, out = validate(env, "--define", "BLKIF_OP_WRITE_BARRIER=9")
    assert len(env.runs) == 2


def test_a_copy_installed_or_removed(env, monkeypatch):
    """validate with no --header compares every installed copy: one that
    appears where a profile looks for copies is compared too."""
    inst = env.tmp / "inst"
    shutil.copytree(XEN_DIR, inst / "a")
    real = profiles.all_profiles()
    pattern = str(inst / "*" / "io" / "blkif.h")
    mine = [dataclasses.replace(p, locate=(pattern,) if p.name == "xen-public" else ()) for p in real]
    monkeypatch.setattr(profiles, "all_profiles", lambda: mine)
    code, out = run("validate", "--spec", str(env.spec))
    assert code == 0 and out.count("matches the spec") == 1, out
    shutil.copytree(XEN_DIR, inst / "b")
    code, out = run("validate", "--spec", str(env.spec))
    assert code == 0 and out.count("matches the spec") == 2 and len(env.runs) == 2, out
    shutil.rmtree(inst / "a")
    code, out = run("validate", "--spec", str(env.spec))
    assert out.count("matches the spec") == 1 and len(env.runs) == 3, out


def test_no_cache_turns_it_off(env, monkeypatch):
    monkeypatch.setenv("XENDRVGEN_NO_CACHE", "1")
    validate(env)
    validate(env)
    assert len(env.runs) == 2 and entries(env) == []


# --- damaged, forged and planted entries ----------------------------------------

def _forge(entry: Path, change) -> None:
    body = json.loads(cachefile.unseal(verdictcache._TAG, entry.read_bytes()))
    change(body)
    entry.write_bytes(cachefile.seal(verdictcache._TAG, json.dumps(body).encode()))


@pytest.mark.parametrize("damage", [
    pytest.param(lambda e: e.write_bytes(e.read_bytes()[:-1] + b"!"), id="flipped-byte"),
    pytest.param(lambda e: e.write_bytes(e.read_bytes()[:40]), id="truncated"),
    pytest.param(lambda e: e.write_bytes(b""), id="empty"),
    pytest.param(lambda e: _forge(e, lambda b: b.update(inputs="0" * 64)), id="other-inputs"),
    pytest.param(lambda e: _forge(e, lambda b: b.update(failed="no")), id="failed-not-bool"),
    pytest.param(lambda e: _forge(e, lambda b: b["renders"].pop("json")), id="a-format-missing"),
    pytest.param(lambda e: _forge(e, lambda b: b["renders"].update(text=7)), id="render-not-text"),
    pytest.param(lambda e: _forge(e, lambda b: b.update(globs=[[1, 2]])), id="bad-glob"),
    pytest.param(lambda e: _forge(e, lambda b: b.update(files=[["/etc/hostname"]])), id="bad-file-pair"),
    pytest.param(lambda e: _forge(e, lambda b: b.update(files=7)), id="files-not-list"),
    pytest.param(lambda e: _forge(e, lambda b: b.update(format=0)), id="other-format"),
    pytest.param(lambda e: (e.unlink(), os.mkfifo(e)), id="fifo"),
    pytest.param(lambda e: (e.unlink(), e.mkdir()), id="directory"),
])
def test_a_damaged_entry_is_a_miss(env, damage):
    code, clean = validate(env)
    (entry,) = entries(env) or [None]
    damage(entry)
    again = validate(env)
    assert again == (code, clean) and len(env.runs) == 2


def test_a_forged_pass_for_a_failing_header_is_not_believed(env):
    """An entry that says 'matches' for other files than the ones now there."""
    assert validate(env)[0] == 0
    edit(env.header, "#define BLKIF_OP_WRITE_BARRIER     2", "#define BLKIF_OP_WRITE_BARRIER     9")
    code, out = validate(env)
    assert code == 1, out


def test_an_input_changed_during_validation_is_not_stored(env, monkeypatch):
    real = validate_mod.validate_all

    def meanwhile(*a, **kw):
        report = real(*a, **kw)
        with open(env.spec, "a") as f:
            f.write("# edited while validating\n")
        return report
    monkeypatch.setattr(validate_mod, "validate_all", meanwhile)
    assert validate(env)[0] == 0
    assert entries(env) == []


# --- check -------------------------------------------------------------------------

def test_check_reuses_the_verdict(env, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out = run("check")
    assert code == 0 and len(env.runs) == 1, out
    assert run("check") == (code, out) and len(env.runs) == 1
    monkeypatch.setenv("XENDRVGEN_NO_CACHE", "1")
    assert run("check") == (code, out)


def test_a_remembered_check_loads_no_spec_and_reads_no_header(env, tmp_path):
    """What makes `check` fast: with both caches warm, neither the spec model,
    YAML, pycparser nor libclang is imported."""
    import subprocess
    import sys
    code = ("import sys; from xendrvgen.cli import main; c = main(['check']); "
            "print(c, sorted(m for m in ('yaml', 'pycparser', 'clang', 'jinja2', 'xendrvgen.spec.model') "
            "if m in sys.modules))")
    environ = {**os.environ, "XENDRVGEN_CACHE_DIR": str(tmp_path / "cache")}
    for expect in (None, "0 []"):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environ)
        assert res.returncode == 0, res.stdout + res.stderr
        if expect:
            assert res.stdout.splitlines()[-1] == expect, res.stdout + res.stderr
