"""The Linux kernel matrix: images of Debian suites, and the generated pair built in each.

`xendrvgen image build` debootstraps a suite, installs its toolchain and
kernel headers, and imports the root into podman under a tag named by the
recipe's hash; `compile --os linux --runner podman --suite LIST` builds the
generated drivers in each image against that suite's kernel (warnings are
errors).  The images are built here when missing (a minute or two each, the
first time on a machine; then reused), which needs root, podman, runc and
debootstrap: CI installs them (.ci/install.sh).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen.compile import CompileError, _images, _podman
from xendrvgen.spec import osprofile

ROOT = Path(__file__).resolve().parents[1]
LINUX = osprofile.load(ROOT / "specs" / "os" / "linux.yaml")


def xdg(*argv, timeout=1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


# --- without containers ---------------------------------------------------------------------

def test_the_tag_names_the_suite_and_changes_with_the_recipe():
    r = _images.recipe("trixie")
    assert r.tag.startswith(f"{_images.REPO}:trixie-") and r.tag == _images.recipe("trixie").tag
    other = _images.Recipe("trixie", (*r.packages, "bc"))
    assert other.tag != r.tag and other.tag.startswith(f"{_images.REPO}:trixie-")
    assert len({_images.recipe(s).tag for s in _images.SUITES}) == len(_images.SUITES)


def test_suite_lists():
    assert _images.suites(["all"]) == list(_images.SUITES)
    assert _images.suites(["sid", "trixie", "sid"]) == ["sid", "trixie"]
    with pytest.raises(CompileError, match="unknown Debian suite 'buster'.*known: bullseye, bookworm"):
        _images.suites(["buster"])
    assert set(_images.MATRIX) <= set(_images.SUITES)
    # The matrix starts at the profile's baseline: bullseye's 5.10.
    assert _images.MATRIX[0] == "bullseye"
    assert LINUX.release("baseline") == "5.10"


def test_the_mirror_can_be_chosen(monkeypatch):
    monkeypatch.setenv("XENDRVGEN_DEBIAN_MIRROR", "http://mirror.invalid/debian")
    assert _images.mirror() == "http://mirror.invalid/debian"


def test_suite_is_for_podman_only():
    res = xdg("compile", "--os", "linux", "--suite", "trixie")
    assert res.returncode == 2 and "--suite builds in the podman images" in res.stderr, res.stderr
    res = xdg("compile", "--os", "linux", "--runner", "podman", "--suite", "trixie", "--kdir", "/tmp")
    assert res.returncode == 2 and "without --image or --kdir" in res.stderr, res.stderr
    res = xdg("compile", "--os", "linux", "--runner", "podman", "--suite", "buster")
    assert res.returncode == 2 and "unknown Debian suite 'buster'" in res.stderr, res.stderr


def test_a_missing_image_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(_images, "exists", lambda tag: False)
    from xendrvgen.cli import compile as _cli
    import argparse
    args = argparse.Namespace(work=str(tmp_path), suite=["sid"], runner="podman", image=None, kdir=None)
    with pytest.raises(CompileError, match=r"no image for sid yet .*xendrvgen image build --suite sid"):
        _cli._jobs(args, ["linux"])


# --- with containers ------------------------------------------------------------------------

def _need_builder():
    missing = [t for t in ("debootstrap", "podman", "runc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (apt-get install podman runc debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("building images needs root (debootstrap, chroot)")


@pytest.fixture(scope="module")
def matrix():
    _need_builder()
    res = xdg("image", "build", "--suite", ",".join(_images.MATRIX))
    assert res.returncode == 0, res.stdout + res.stderr
    return res


def test_the_generated_pair_builds_with_zero_warnings_on_every_suite_of_the_matrix(matrix):
    print(matrix.stdout)
    res = xdg("compile", "--os", "linux", "--runner", "podman", "--suite", ",".join(_images.MATRIX), "--no-cache")
    print(res.stdout)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("linux on ")]
    assert [ln.split()[2] for ln in lines] == list(_images.MATRIX)
    kernels = [ln.split("(kernel ")[1].split(")")[0] for ln in lines]
    assert kernels[0].startswith(LINUX.release("baseline") + ".") and len(set(kernels)) == len(kernels), kernels
    assert all(": ok (" in ln for ln in lines), res.stdout
    # Unchanged inputs and images: nothing is rebuilt, no container is started.
    again = xdg("compile", "--os", "linux", "--runner", "podman", "--suite", ",".join(_images.MATRIX))
    assert again.returncode == 0 and again.stdout.count("unchanged, not rebuilt") == len(_images.MATRIX), again.stdout


def _suite_lines(stdout: str) -> dict:
    return {ln.split()[2]: ln for ln in stdout.splitlines() if ln.startswith("linux on ")}


def test_the_free_disk_guard_is_real_without_it_only_bullseye_fails(matrix, tmp_path):
    """The frontend's disk lifetime is chosen by free_disk (5.18): with the
    guard taken out, the 5.18 branches everywhere, the frontend no longer
    builds on bullseye's 5.10 (its block_device_operations has no free_disk)
    and still builds on every later suite."""
    gen = tmp_path / "gen"
    shutil.copytree(ROOT / "generated" / "linux", gen / "linux")
    front = gen / "linux" / "xen-blkfront.c"
    text = front.read_text()
    guard = LINUX.since("free_disk")
    assert text.count(guard) >= 3, "the frontend has fewer free_disk guards than expected"
    front.write_text(text.replace(guard, "1"))
    res = xdg("compile", "--os", "linux", "--runner", "podman", "--suite", ",".join(_images.MATRIX),
              "--gen", str(gen), "--work", str(tmp_path / "work"), "--no-cache")
    print(res.stdout, res.stderr)
    lines = _suite_lines(res.stdout + res.stderr)
    assert res.returncode == 1 and set(lines) == set(_images.MATRIX), res.stdout + res.stderr
    assert [s for s, ln in lines.items() if ": ok (" not in ln] == ["bullseye"], res.stdout + res.stderr
    assert "has no member named 'free_disk'" in res.stdout + res.stderr


def test_an_image_is_reused_while_its_recipe_is_unchanged(matrix):
    res = xdg("image", "build", "--suite", _images.MATRIX[0])
    assert res.returncode == 0 and "up to date, reused" in res.stdout, res.stdout + res.stderr


def test_ci_builds_the_matrix_once_the_images_are_there(matrix):
    res = xdg("ci", "--os", "linux")
    for suite in _images.MATRIX:
        assert f"== compile linux on {suite} (kernel " in res.stdout, res.stdout
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_failed_recipe_leaves_no_image_tagged():
    _need_builder()
    bad = ("gcc", "xendrvgen-no-such-package")
    tag = _images.Recipe("bookworm", bad).tag
    with pytest.raises(_images.ImageError, match="apt-get in the new root failed"):
        _images.build("bookworm", packages=bad, progress=lambda m: None)
    assert not _images.exists(tag)
    listed = subprocess.run(_podman.command("images", "--format", "{{.Repository}}:{{.Tag}}"), env=_podman.env(),
                            capture_output=True, text=True).stdout
    assert "partial-" not in listed and tag not in listed, listed
