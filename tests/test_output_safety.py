"""The output tree is the only thing generate and check touch: no symbolic link
under it is followed, interrupted runs leave nothing behind (or the next run
removes it), an empty --out is refused, and odd terminals cannot crash the
command line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from xendrvgen.base import paths
from xendrvgen.render import environment as render, writer
from xendrvgen.base.diagnostics import SpecError

ROOT = Path(__file__).resolve().parents[1]


def run(*argv, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env)


@pytest.fixture
def out(tmp_path) -> Path:
    """generated/ of NetBSD, freshly rendered."""
    out = tmp_path / "out"
    res = run("generate", "--os", "netbsd", "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


# --- symbolic links --------------------------------------------------------------
def test_pruning_never_deletes_through_a_symlink(out, tmp_path):
    victim = tmp_path / "victim.c"       # outside --out, with an intact xendrvgen banner
    victim.write_bytes((out / "netbsd" / "xbd_xenbus.c").read_bytes())
    link = out / "netbsd" / "old_name.c"
    link.symlink_to(victim)
    before = files(out)
    res = run("generate", "--os", "netbsd", "--out", str(out))
    assert res.returncode == 2, res.stdout + res.stderr
    assert victim.exists() and link.is_symlink()
    assert files(out) == before
    assert f"{out}/netbsd/old_name.c" in res.stderr and "symbolic link" in res.stderr
    assert "rm " in res.stderr and "Traceback" not in res.stderr


def test_symlinked_os_directory_is_refused_and_nothing_is_written(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "netbsd").symlink_to(elsewhere)
    res = run("generate", "--os", "netbsd", "--out", str(out))
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"{out}/netbsd" in res.stderr and "symbolic link" in res.stderr
    assert not list(elsewhere.iterdir())


def test_write_does_not_go_through_a_symlinked_file(out, tmp_path):
    victim = tmp_path / "victim.c"
    victim.write_text("mine\n")
    target = out / "netbsd" / "xbd_xenbus.c"
    target.unlink()
    target.symlink_to(victim)
    res = run("generate", "--os", "netbsd", "--out", str(out), "--force")
    assert res.returncode == 2 and "symbolic link" in res.stderr
    assert victim.read_text() == "mine\n" and target.is_symlink()


def _swap_for_link(directory: Path, elsewhere: Path) -> None:
    """Put a link to `elsewhere` in place of `directory` (what a concurrent
    process could do between the checks of plan() and the writes of apply())."""
    directory.rename(elsewhere)
    directory.symlink_to(elsewhere)


def test_a_link_swapped_in_after_the_check_is_not_written_through(out, tmp_path):
    rels = ["netbsd/xbd_xenbus.c", "netbsd/xbdback_xenbus.c"]
    plan = writer.plan(str(out), [(r, writer.compose(f"new {r}\n", banner_style="block", preamble=(),
                                                       spec_name="s", spec_sha256="0" * 64, os_name="netbsd",
                                                       template="t")) for r in rels])
    assert {c.action for c in plan} == {"update"}
    elsewhere = tmp_path / "elsewhere"
    _swap_for_link(out / "netbsd", elsewhere)
    before = files(elsewhere)
    with pytest.raises(SpecError, match="symbolic link"):
        writer.apply(plan)
    assert files(elsewhere) == before             # nothing written or left there
    assert not list(elsewhere.glob(".xendrvgen-*"))


def test_a_link_swapped_in_after_the_check_is_not_pruned_through(out, tmp_path):
    stale = out / "netbsd" / "old_name.c"
    stale.write_bytes((out / "netbsd" / "xbd_xenbus.c").read_bytes())   # intact banner: pruned
    plan = writer.plan(str(out), [], prune=("netbsd",))
    assert any(c.action == "remove" and c.rel == "netbsd/old_name.c" for c in plan)
    elsewhere = tmp_path / "elsewhere"
    _swap_for_link(out / "netbsd", elsewhere)
    with pytest.raises(SpecError, match="symbolic link"):
        writer.apply(plan)
    assert (elsewhere / "old_name.c").exists() and (elsewhere / "xbd_xenbus.c").exists()


def test_check_does_not_follow_symlinks(out, tmp_path):
    copy = tmp_path / "copy.c"                   # identical content: following it would pass
    target = out / "netbsd" / "xbd_xenbus.c"
    copy.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(copy)
    for argv in ((), ("--fix",)):
        res = run("check", "--no-validate", "--os", "netbsd", "--out", str(out), *argv)
        assert res.returncode == 2, res.stdout + res.stderr
        assert f"{target}" in res.stderr and "symbolic link" in res.stderr
        assert target.is_symlink() and copy.exists()


def test_check_reports_a_link_to_a_wanted_file_instead_of_skipping_it(out):
    (out / "netbsd" / "alias.c").symlink_to(out / "netbsd" / "xbd_xenbus.c")
    res = run("check", "--no-validate", "--os", "netbsd", "--out", str(out))
    assert res.returncode == 2 and "alias.c" in res.stderr and "symbolic link" in res.stderr


def test_the_output_directory_itself_may_be_a_symlink(tmp_path):
    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.symlink_to(real)
    assert run("generate", "--os", "netbsd", "--out", str(link)).returncode == 0
    assert (real / "netbsd" / "xbd_xenbus.c").is_file()
    res = run("check", "--no-validate", "--os", "netbsd", "--out", str(link))
    assert res.returncode == 0, res.stdout + res.stderr


# --- leftovers of interrupted runs ------------------------------------------------
def test_generate_removes_temporary_files_an_interrupted_run_left(out):
    left = out / "netbsd" / "sys" / ".xendrvgen-ab_c1234.tmp"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_text("half a file")
    res = run("generate", "--os", "netbsd", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert not left.exists()
    assert ".xendrvgen-ab_c1234.tmp: removed" in res.stdout


def test_check_names_leftovers_and_fix_removes_them(out):
    left = out / "netbsd" / ".xendrvgen-zz9_0000.tmp"
    left.write_text("half a file")
    res = run("check", "--no-validate", "--os", "netbsd", "--out", str(out))
    assert res.returncode == 1
    assert "interrupted" in res.stdout and "fix with: xendrvgen generate" in res.stdout
    res = run("check", "--no-validate", "--os", "netbsd", "--out", str(out), "--fix")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not left.exists()


def test_a_concurrent_runs_file_in_flight_is_not_a_leftover(out):
    """Only a file whose writer is gone is removed: two generate runs into
    one tree must not delete each other's temporary files."""
    live = subprocess.Popen(["sleep", "60"])
    try:
        busy = out / "netbsd" / f".xendrvgen-{live.pid}-abc123.tmp"
        busy.write_text("being written")
        gone = out / "netbsd" / f".xendrvgen-{2**22 + 7}-abc123.tmp"     # above pid_max
        gone.write_text("left")
        assert run("generate", "--os", "netbsd", "--out", str(out)).returncode == 0
        assert busy.exists() and not gone.exists()
    finally:
        live.kill()
        live.wait()


def test_other_dot_files_are_not_taken_for_leftovers(out):
    mine = out / "netbsd" / ".xendrvgen-notes"
    mine.write_text("mine\n")
    assert run("generate", "--os", "netbsd", "--out", str(out)).returncode == 0
    assert mine.exists()


def test_keyboard_interrupt_while_writing_leaves_no_temp_file(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt
    changes = writer.plan(str(tmp_path), [("a/one.h", "one\n"), ("b/two.h", "two\n")])
    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writer.apply(changes)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_sigterm_while_writing_leaves_no_temp_file(tmp_path):
    """Python's default SIGTERM ends the process without running `finally`."""
    out = tmp_path / "out"
    script = (
        "import os, signal, sys\n"
        "from xendrvgen import cli\n"
        "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGTERM)\n"
        f"sys.exit(cli.main(['generate', '--os', 'netbsd', '--out', {str(out)!r}]))\n")
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 128 + signal.SIGTERM, res.stderr
    assert not [p for p in out.rglob("*") if p.is_file()]


# --- arguments and the terminal ---------------------------------------------------
@pytest.mark.parametrize("command", ["generate", "check"])
def test_empty_out_is_refused(tmp_path, command):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "blkif.yaml").write_bytes((ROOT / "specs" / "blkif.yaml").read_bytes())
    res = run(command, "--no-validate" if command == "check" else "--force", "--os", "netbsd",
              "--out", "", cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--out" in res.stderr and "empty" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["specs"]


def test_empty_out_is_refused_by_the_writer_too(tmp_path, monkeypatch):
    from xendrvgen.base.diagnostics import SpecError
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match="empty"):
        writer.plan("", [("netbsd/x.h", "x\n")])
    assert not list(tmp_path.iterdir())


def test_non_ascii_paths_on_an_ascii_terminal(tmp_path):
    out = tmp_path / "dé"
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    res = run("generate", "--os", "netbsd", "--out", str(out), env=env)
    assert res.returncode == 0, res.stderr
    assert "d\\xe9" in res.stdout and (out / "netbsd" / "xbd_xenbus.c").is_file()
    res = run("check", "--no-validate", "--os", "netbsd", "--out", str(out / "nowhere"), env=env)
    assert res.returncode == 1 and "Traceback" not in res.stderr and "internal error" not in res.stderr


# --- caches --------------------------------------------------------------------
def test_one_rule_for_the_cache_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("XENDRVGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert paths.cache_dir() == tmp_path / "home" / ".cache" / "xendrvgen"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir() == tmp_path / "xdg" / "xendrvgen"
    monkeypatch.setenv("XENDRVGEN_CACHE_DIR", str(tmp_path / "mine"))
    assert paths.cache_dir() == tmp_path / "mine"


def test_template_bytecode_cache_honours_xendrvgen_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XENDRVGEN_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("XENDRVGEN_NO_CACHE", raising=False)
    cache = render._bytecode_cache()
    assert isinstance(cache, jinja2.FileSystemBytecodeCache)
    assert Path(cache.directory).parent == tmp_path / "mine"
    assert not (tmp_path / "xdg").exists()
