"""The BSD and EDK2 builds in the images of Debian suites: each image carries
this machine's ziglang (`xendrvgen image build` copies it in, and its version
is part of the recipe), and `compile --os freebsd,netbsd,edk2,openbsd --runner
podman --suite S` builds with the image's zig and clang, the generated tree
mounted read-only.  The image of the newest suite of the matrix is built here
when missing (a minute or two, once; tests/test_linux_matrix.py builds it
too), which needs root, podman, runc and debootstrap: CI installs them
(.ci/install.sh).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xendrvgen.compile import CompileError, PodmanRunner, Runner, _cbuild, _images, _podman, _zig

ROOT = Path(__file__).resolve().parents[1]
CROSS = ("edk2", "freebsd", "netbsd", "openbsd")
SUITE = _images.MATRIX[-1]


def xdg(*argv, timeout=1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


# --- without containers ---------------------------------------------------------------------

def test_the_recipe_names_the_ziglang_version_and_a_new_one_makes_a_new_tag(monkeypatch):
    monkeypatch.setattr(_zig, "installed_version", lambda: "0.13.0")
    old = _images.recipe("sid")
    assert "ziglang 0.13.0\n" in old.text() and "python3" in old.packages
    monkeypatch.setattr(_zig, "installed_version", lambda: "0.14.1")
    new = _images.recipe("sid")
    assert new.tag != old.tag and new.tag.startswith(f"{_images.REPO}:sid-")
    assert _images.recipe("sid").tag == new.tag          # the same version: the same tag


def test_image_build_without_ziglang_says_how_to_install_it(monkeypatch, capsys):
    from xendrvgen.cli.dispatch import main
    monkeypatch.setattr(_zig, "installed_version", lambda: None)
    assert main(["image", "build", "--suite", "sid"]) == 2
    err = capsys.readouterr().err
    assert "'ziglang' is not installed" in err and "pip install ziglang" in err, err


class _InImage(Runner):
    name, image = "fake", "localhost/some-image"


def test_in_an_image_zig_and_the_xen_headers_are_the_image_s(tmp_path):
    runner = _InImage()
    assert _zig.cc(runner) == ["python3", "-m", "ziglang", "cc"]
    assert _cbuild.xen_public_files(runner) == []
    link = _cbuild.xen_public_include(tmp_path, runner) / _cbuild.XEN_PUBLIC_LINK
    assert os.readlink(link) == "/usr/include/xen"
    assert _zig.cc()[0] == sys.executable           # here: this Python's ziglang


def test_a_container_sees_its_inputs_read_only():
    args = _podman.run_args("img", ["true"], "/w", ["/w"], readonly=["/gen", "/w"], name="c1")
    assert "/gen:/gen:ro" in args and "/w:/w" in args and "/w:/w:ro" not in args
    assert args[args.index("--name") + 1] == "c1" and "--rm" in args


def test_suite_builds_every_os_asked_for_each_in_its_own_directory(monkeypatch, tmp_path):
    from xendrvgen.cli import compile as cli
    monkeypatch.setattr(_images, "exists", lambda tag: True)
    args = argparse.Namespace(work=str(tmp_path), suite=["bookworm", "sid"], runner="podman", image=None, kdir=None)
    jobs = cli._jobs(args, ["freebsd", "edk2"])
    assert [j[1] for j in jobs] == ["freebsd on bookworm", "edk2 on bookworm", "freebsd on sid", "edk2 on sid"]
    assert jobs[3][2]["work_dir"] == tmp_path / "edk2-sid" and jobs[3][2]["image"] == _images.recipe("sid").tag
    monkeypatch.setattr(_images, "exists", lambda tag: False)
    with pytest.raises(CompileError, match=r"no image for bookworm yet .*xendrvgen image build --suite bookworm"):
        cli._jobs(args, ["netbsd"])
    args.runner = "local"
    with pytest.raises(CompileError, match="use it with --runner podman"):
        cli._jobs(args, ["netbsd"])


# --- with containers ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def image() -> str:
    missing = [t for t in ("debootstrap", "podman", "runc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (apt-get install podman runc debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("building images needs root (debootstrap, chroot)")
    res = xdg("image", "build", "--suite", SUITE)
    assert res.returncode == 0, res.stdout + res.stderr
    return _images.recipe(SUITE).tag


def _in(tag: str, *cmd: str) -> str:
    p = subprocess.run(_podman.run_args(tag, list(cmd)), env=_podman.env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout.strip()


def test_every_cross_target_builds_in_the_image_with_its_own_zig(image, tmp_path):
    zig = "zig " + _in(image, "python3", "-m", "ziglang", "version")
    res = xdg("compile", "--os", ",".join(CROSS), "--runner", "podman", "--suite", SUITE,
              "--work", str(tmp_path), "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    results = {r["os"]: r for r in json.loads(res.stdout)["results"]}
    assert sorted(results) == list(CROSS)
    for os_name, r in results.items():
        assert r["ok"] and r["warnings"] == [] and r["artifacts"], r["log"]
        assert r["label"] == f"{os_name} on {SUITE}"
        assert all(a.startswith(str(tmp_path / f"{os_name}-{SUITE}")) for a in r["artifacts"])
    for os_name in ("freebsd", "netbsd", "openbsd"):
        assert results[os_name]["tool"] == zig and results[os_name]["command"][:3] == ["python3", "-m", "ziglang"]
    assert results["edk2"]["tool"] == _in(image, "clang", "--version").splitlines()[0]
    # --os all: the same builds again, unchanged (no container started), and Linux.
    text = xdg("compile", "--os", "all", "--runner", "podman", "--suite", SUITE, "--work", str(tmp_path))
    assert text.returncode == 0, text.stdout + text.stderr
    for os_name in CROSS:
        assert f"{os_name} on {SUITE} ({results[os_name]['tool']}): ok (unchanged, not rebuilt)" in text.stdout, \
            text.stdout
    assert f"linux on {SUITE} (kernel " in text.stdout, text.stdout


def test_the_cache_keys_on_the_image_id(image, tmp_path):
    """The same tag on another image (a rebuild) is another toolchain: a rebuild."""
    other = f"{_images.REPO}:test-derived-{os.getpid()}"
    box = f"xendrvgen-test-{os.getpid()}"
    argv = ["compile", "--os", "netbsd", "--runner", "podman", "--work", str(tmp_path)]
    try:
        assert xdg(*argv, "--image", image).returncode == 0
        assert "unchanged, not rebuilt" in xdg(*argv, "--image", image).stdout
        for cmd in (("create", "--name", box, image, "true"),
                    ("commit", "-q", "--change", "LABEL test=1", box, other)):
            subprocess.run(_podman.command(*cmd), env=_podman.env(), check=True, capture_output=True)
        again = xdg(*argv, "--image", other)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "netbsd: ok (" in again.stdout and "unchanged" not in again.stdout, again.stdout
    finally:
        subprocess.run(_podman.command("rm", "-f", "--ignore", box), env=_podman.env(), capture_output=True)
        subprocess.run(_podman.command("rmi", "-f", other), env=_podman.env(), capture_output=True)


def test_a_broken_generated_file_shows_the_compiler_s_first_error_with_its_line(image, tmp_path):
    gen = tmp_path / "generated"
    shutil.copytree(ROOT / "generated" / "freebsd", gen / "freebsd")
    src = gen / "freebsd" / "xbd.c"
    lines = src.read_text().splitlines()
    src.write_text("\n".join([*lines, "static int xendrvgen_broken = ;", ""]))
    res = xdg("compile", "--os", "freebsd", "--gen", str(gen), "--runner", "podman", "--suite", SUITE,
              "--work", str(tmp_path / "w"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"freebsd on {SUITE} (zig " in res.stderr and "FAILED" in res.stderr, res.stderr
    first = next(ln for ln in res.stderr.splitlines() if "error:" in ln)
    assert f"xbd.c:{len(lines) + 1}:" in first and "expected expression" in first, res.stderr


def test_the_generated_tree_is_read_only_in_the_container(image, tmp_path):
    gen, work = tmp_path / "gen", tmp_path / "work"
    gen.mkdir()
    work.mkdir()
    runner = PodmanRunner(image, mounts=(gen,))
    rc, out = runner.run(["touch", str(gen / "x")], work)
    assert rc != 0 and "Read-only file system" in out and not (gen / "x").exists(), out
    rc, out = runner.run(["touch", str(work / "x")], work)
    assert rc == 0 and (work / "x").is_file(), out


def test_ctrl_c_removes_the_container(image, tmp_path):
    code = ("import sys; from pathlib import Path; from xendrvgen.compile import PodmanRunner; "
            f"PodmanRunner({image!r}).run(['sleep', '120'], Path({str(tmp_path)!r}))")
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    name = f"xendrvgen-{p.pid}-1"

    def listed() -> str:
        return subprocess.run(_podman.command("ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}"),
                              env=_podman.env(), capture_output=True, text=True).stdout
    deadline = time.monotonic() + 60
    while name not in listed():
        assert time.monotonic() < deadline and p.poll() is None, p.stderr.read() if p.poll() is not None else ""
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)                  # the Python process only, as a Ctrl-C that podman missed
    assert p.wait(timeout=60) != 0
    assert name not in listed()


def test_ci_builds_the_cross_targets_in_the_newest_suite_s_image(image):
    res = xdg("ci", "--os", "freebsd,edk2")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"== compile freebsd on {SUITE} (zig " in res.stdout and f"== compile edk2 on {SUITE} (" in res.stdout
    assert "== compile linux on" not in res.stdout, res.stdout
