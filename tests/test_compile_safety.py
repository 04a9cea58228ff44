"""Hardening of `xendrvgen compile` (issue 15): concurrent runs in one work
directory, a cache key that names where the sources and the build are, a
repository path with a space, and an unknown OS as bad input."""
from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from xendrvgen import compile as comp

ROOT = Path(__file__).resolve().parent.parent


def xdg(*args, cwd=ROOT, **kw):
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *args], cwd=cwd,
                          capture_output=True, text=True, **kw)


def copy_generated(os_name: str, repo: Path) -> Path:
    """A repository holding a copy of the committed generated/<os_name>/ (others may regenerate the real one)."""
    shutil.copytree(ROOT / "generated" / os_name, repo / "generated" / os_name)
    return repo


@pytest.fixture
def edk2_repo(tmp_path):
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed (apt-get install clang)")
    if not Path("/usr/include/xen/io/ring.h").is_file():
        pytest.skip("Xen's public headers are not installed (apt-get install libxen-dev)")
    return copy_generated("edk2", tmp_path / "repo")


class HookedRunner(comp.LocalRunner):
    """The local runner with hooks around each compile command (`-c`), to force an interleaving."""

    def __init__(self, before=None, after=None):
        self.before, self.after = before, after

    def run(self, cmd, cwd, env=None, timeout=900):
        compiling = "-c" in cmd
        if compiling and self.before:
            self.before()
        out = super().run(cmd, cwd, env, timeout)
        if compiling and self.after:
            self.after()
        return out


def test_two_runs_in_one_work_dir_both_succeed_and_the_second_reuses_the_first(edk2_repo, tmp_path):
    # Run b starts while run a is between compiling an object and checking it:
    # without a lock, b deletes a's object there and a fails.
    a_compiled, b_compiling = threading.Event(), threading.Event()

    def a_after():
        if not a_compiled.is_set():
            a_compiled.set()
            b_compiling.wait(5)   # with the lock b never gets here while a runs

    def b_before():
        b_compiling.set()
        time.sleep(1)

    results = {}

    def run(name, runner):
        try:
            results[name] = comp.build("edk2", edk2_repo / "generated", runner=runner, work_dir=tmp_path / "w")
        except Exception as exc:  # reported by the assertions below
            results[name] = exc

    ta = threading.Thread(target=run, args=("a", HookedRunner(after=a_after)))
    ta.start()
    assert a_compiled.wait(120)
    tb = threading.Thread(target=run, args=("b", HookedRunner(before=b_before)))
    tb.start()
    ta.join(300)
    tb.join(300)
    a, b = results["a"], results["b"]
    assert isinstance(a, comp.Result) and a.ok, a
    assert isinstance(b, comp.Result) and b.ok, b
    assert b.cached   # waited for a, then found a's build unchanged
    assert all(Path(p).is_file() for p in a.artifacts)


def test_a_second_compile_waits_for_the_first_and_says_so_once(edk2_repo):
    work = edk2_repo / "build"
    (work / "edk2").mkdir(parents=True)
    err = edk2_repo / "stderr.txt"
    with open(work / "edk2" / ".xendrvgen-compile.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)   # another run holds the work directory
        with open(err, "w") as e:
            proc = subprocess.Popen([sys.executable, "-m", "xendrvgen.cli", "compile", "--os", "edk2",
                                     "--gen", str(edk2_repo / "generated"), "--work", str(work)],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=e, text=True)
        try:
            deadline = time.monotonic() + 60
            while "waiting" not in err.read_text() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)
            assert proc.poll() is None, "the second run did not wait for the work directory"
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
            out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.read_text()
    assert "edk2: ok" in out
    assert err.read_text().count("waiting") == 1
    assert str(work / "edk2") in err.read_text()


def test_a_copied_repository_does_not_reuse_the_original_build(edk2_repo, tmp_path):
    first = xdg("compile", "--os", "edk2", cwd=edk2_repo)
    assert first.returncode == 0, first.stderr
    copy = tmp_path / "copy"
    shutil.copytree(edk2_repo, copy, symlinks=True)   # sources, build/ and its cache stamp
    again = xdg("compile", "--os", "edk2", cwd=copy)
    assert again.returncode == 0, again.stderr
    assert "unchanged" not in again.stdout, again.stdout
    artifacts = [line.strip() for line in again.stdout.splitlines()[1:]]
    assert artifacts and all(a.startswith(str(copy / "build")) for a in artifacts), again.stdout
    # and the copy's own build is the one reused next time
    assert "unchanged" in xdg("compile", "--os", "edk2", cwd=copy).stdout


def test_linux_builds_in_a_repository_path_with_a_space(tmp_path):
    if not (glob.glob("/usr/src/linux-headers-*-amd64")
            or Path(f"/lib/modules/{os.uname().release}/build/Makefile").is_file()):
        pytest.skip("no kernel build directory (apt-get install linux-headers-amd64)")
    repo = copy_generated("linux", tmp_path / "my repo")
    r = xdg("compile", "--os", "linux", cwd=repo)
    assert r.returncode == 0, r.stdout + r.stderr
    kos = sorted(Path(p).name for p in glob.glob(str(repo / "build" / "compile" / "linux" / "src" / "*.ko")))
    assert kos == ["xen-blkback.ko", "xen-blkfront.ko"]


@pytest.mark.parametrize("cmd", [["ci", "--os", "bogus"], ["compile", "--os", "bogus"],
                                 ["compile", "--os", "linux,bogus"], ["compile", "--os", ","]])
def test_an_unknown_os_is_bad_input(cmd, tmp_path):
    r = xdg(*cmd, "--no-cache", cwd=ROOT, timeout=600)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "linux" in r.stderr and "freebsd" in r.stderr   # the known OSes are listed
    assert "Traceback" not in r.stderr


def test_a_changed_header_the_build_read_is_a_rebuild(edk2_repo, tmp_path, monkeypatch):
    """Headers the key does not list (a real tree's, the kernel's) are found in
    the compilers' dependency files: changing one means no stale "unchanged".
    Stand-in: a copy of the contract, left out of the key's file list."""
    from xendrvgen.compile import _cbuild
    contracts = tmp_path / "contracts"
    shutil.copytree(_cbuild.CONTRACTS_DIR, contracts)
    monkeypatch.setattr(_cbuild, "CONTRACTS_DIR", contracts)
    monkeypatch.setattr(_cbuild, "contract_files", lambda os_name: [])
    gen, work = edk2_repo / "generated", tmp_path / "w"
    first = comp.build("edk2", gen, work_dir=work)
    assert first.ok and not first.cached, first.log
    assert comp.build("edk2", gen, work_dir=work).cached
    read = [p for p in contracts.rglob("*.h") if str(p) in (work / comp.CACHE_FILE).read_text()]
    assert read, "the dependency files named no contract header"
    read[0].write_text(read[0].read_text() + "\n#error this header broke\n")
    again = comp.build("edk2", gen, work_dir=work)
    assert not again.cached and not again.ok, "a broken header the build reads was reported unchanged"
