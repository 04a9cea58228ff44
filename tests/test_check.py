"""`xendrvgen check`: the drift check CI runs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "blkif.yaml"
HAVE_XEN = Path("/usr/include/xen/io/blkif.h").exists()


def run(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=cwd or ROOT)


@pytest.fixture
def copy(tmp_path) -> Path:
    """A project with a copy of the spec and its generated/ tree, to break at will."""
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / "blkif.yaml")
    (tmp_path / "pyproject.toml").write_text("")     # makes tmp_path a project root
    # A fresh render, not a copy of generated/: these tests are about check,
    # and must not depend on whether the committed tree is current.
    res = run("generate", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path


def test_check_passes_on_the_committed_tree():
    res = run("check", "--no-validate")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "are up to date" in res.stdout


@pytest.mark.skipif(not HAVE_XEN, reason="libxen-dev is not installed")
def test_check_also_validates_against_installed_upstream_headers():
    res = run("check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "/usr/include/xen/io/blkif.h" in res.stdout and "matches the spec" in res.stdout


def test_editing_a_generated_file_fails_and_names_it(copy):
    target = copy / "generated/freebsd/sys/contrib/xen/io/blkif.h"
    target.write_text(target.read_text().replace("#define BLKIF_OP_READ            0",
                                                 "#define BLKIF_OP_READ            9"))
    res = run("check", "--no-validate", cwd=copy)
    assert res.returncode == 1
    assert "generated/freebsd/sys/contrib/xen/io/blkif.h: edited: was edited by hand" in res.stdout
    assert "-#define BLKIF_OP_READ            9" in res.stdout
    assert "+#define BLKIF_OP_READ            0" in res.stdout
    assert "fix with: xendrvgen generate" in res.stdout
    assert res.stdout.count(": edited:") + res.stdout.count(": stale:") == 1


def test_changing_a_constant_in_the_spec_fails_and_names_every_affected_file(copy):
    spec = copy / "specs/blkif.yaml"
    text = spec.read_text()
    old = "  - name: BLKIF_DISCARD_SECURE\n    value: 0x1"
    assert old in text
    spec.write_text(text.replace(old, "  - name: BLKIF_DISCARD_SECURE\n    value: 0x2"))
    res = run("check", "--no-validate", cwd=copy)
    assert res.returncode == 1
    for os_name, path in (("linux", "include/xen/interface/io/blkif.h"),
                          ("freebsd", "sys/contrib/xen/io/blkif.h"),
                          ("edk2", "OvmfPkg/Include/IndustryStandard/Xen/io/blkif.h")):
        assert f"generated/{os_name}/{path}: stale:" in res.stdout, res.stdout[:2000]
    assert "+#define BLKIF_DISCARD_SECURE 0x2" in res.stdout
    # The banner's spec hash changes in every file, so every file is stale.
    assert res.stdout.count(": stale:") == len([p for p in (copy / "generated").rglob("*") if p.is_file()])


@pytest.mark.skipif(not HAVE_XEN, reason="libxen-dev is not installed")
def test_spec_that_drifted_from_upstream_fails_even_when_regenerated(copy):
    spec = copy / "specs/blkif.yaml"
    spec.write_text(spec.read_text().replace("  - name: BLKIF_OP_DISCARD\n    value: 5",
                                             "  - name: BLKIF_OP_DISCARD\n    value: 15"))
    assert run("generate", cwd=copy).returncode == 0
    res = run("check", cwd=copy)
    assert res.returncode == 1
    assert "no longer matches the upstream headers" in res.stdout
    assert "BLKIF_OP_DISCARD" in res.stdout and "15" in res.stdout


def test_github_format_prints_annotations(copy):
    target = copy / "generated/netbsd/sys/external/mit/xen-include-public/dist/xen/include/public/io/blkif_nodes.h"
    lines = target.read_text().split("\n")
    i = next(n for n, ln in enumerate(lines) if '"feature-persistent"' in ln)
    lines[i] = lines[i].replace("feature-persistent", "feature-persistant")
    target.write_text("\n".join(lines))
    res = run("check", "--no-validate", "--format", "github", cwd=copy)
    assert res.returncode == 1
    rel = target.relative_to(copy).as_posix()
    assert res.stdout.startswith(f"::error file={rel},line={i + 1},title=xendrvgen check%3A edited::")
    assert "xendrvgen generate" in res.stdout and "\n" not in res.stdout.strip()


def test_json_format_is_machine_readable(copy):
    (copy / "generated/edk2/OvmfPkg/Include/IndustryStandard/Xen/io/blkif_abi.h").unlink()
    (copy / "generated/linux/stray.h").write_text("/* not generated */\n")
    res = run("check", "--no-validate", "--format", "json", cwd=copy)
    assert res.returncode == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False and data["fix_command"] == "xendrvgen generate"
    kinds = {(f["kind"], f["path"]) for f in data["findings"]}
    assert ("missing", "generated/edk2/OvmfPkg/Include/IndustryStandard/Xen/io/blkif_abi.h") in kinds
    assert ("extra", "generated/linux/stray.h") in kinds


def test_unknown_directory_under_generated_is_extra(copy):
    (copy / "generated/solaris").mkdir()
    (copy / "generated/solaris/blkif.h").write_text("x\n")
    res = run("check", "--no-validate", cwd=copy)
    assert res.returncode == 1
    assert "generated/solaris: extra: is not the output directory of any OS profile" in res.stdout


def test_fix_regenerates_and_then_check_passes(copy):
    target = copy / "generated/linux/include/xen/interface/io/blkif_nodes.h"
    target.write_text(target.read_text() + "/* local tweak */\n")
    (copy / "generated/freebsd/sys/contrib/xen/io/blkif_abi.h").unlink()
    res = run("check", "--no-validate", "--fix", cwd=copy)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "local tweak" not in target.read_text()
    assert run("check", "--no-validate", cwd=copy).returncode == 0


def test_check_of_one_os_ignores_the_others(copy):
    target = copy / "generated/linux/include/xen/interface/io/blkif.h"
    target.write_text("broken\n")
    assert run("check", "--no-validate", "--os", "freebsd,netbsd", cwd=copy).returncode == 0
    res = run("check", "--no-validate", "--os", "linux", cwd=copy)
    assert res.returncode == 1 and "fix with: xendrvgen generate --os linux" in res.stdout


def test_bad_spec_is_exit_2_not_a_traceback(copy):
    spec = copy / "specs/blkif.yaml"
    spec.write_text(spec.read_text().replace("    value: 11\n", "    value: [11\n", 1))
    res = run("check", cwd=copy)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "specs/blkif.yaml:" in res.stderr
