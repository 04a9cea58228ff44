"""A protocol maintainer's edit: a new opcode and a new XenStore node reach
every OS's headers the same way, and `xendrvgen impact` says what changed
and whether the wire ABI did."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import feature_node

from xendrvgen.spec import osprofile

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "blkif.yaml"
PROFILES = {p.name: p for p in osprofile.load_many(None)}

NEW_OPCODE = """  - name: BLKIF_OP_ZERO_RANGE
    value: 7
    group: operation
    feature: zero_range
    description: Write zeroes over a range of sectors without transferring data.

  # Response status codes."""
NEW_NODE = feature_node("feature-zero-range", "zero_range", "1 means the backend accepts BLKIF_OP_ZERO_RANGE.") + """
  # ------------------------------------------------------------------
  # Backend: request transport parameters"""


def run(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=cwd or ROOT)


def edited_spec(text: str) -> str:
    assert "  # Response status codes." in text
    assert "  # ------------------------------------------------------------------\n  # Backend: request transport parameters" in text
    text = text.replace("  # Response status codes.", NEW_OPCODE, 1)
    return text.replace("  # ------------------------------------------------------------------\n"
                        "  # Backend: request transport parameters", NEW_NODE, 1)


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / "blkif.yaml")
    (tmp_path / "pyproject.toml").write_text("")
    # A fresh render, not a copy of generated/: these tests are about check,
    # and must not depend on whether the committed tree is current.
    res = run("generate", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path


def test_new_opcode_and_node_reach_all_four_os_headers(project):
    spec = project / "specs" / "blkif.yaml"
    spec.write_text(edited_spec(spec.read_text()))
    assert run("check", "--no-validate", cwd=project).returncode == 1   # stale until regenerated
    res = run("generate", cwd=project)
    assert res.returncode == 0, res.stderr
    assert run("check", "--no-validate", cwd=project).returncode == 0
    for name, prof in PROFILES.items():
        blkif = (project / "generated" / name / prof.output_for("blkif").path).read_text()
        nodes = (project / "generated" / name / prof.output_for("nodes").path).read_text()
        assert re.search(r"^#define BLKIF_OP_ZERO_RANGE\s+7$", blkif, re.M), name
        assert "Write zeroes over a range of sectors" in blkif, name
        assert re.search(r'^#define BLKIF_NODE_BE_FEATURE_ZERO_RANGE\s+"feature-zero-range"$', nodes, re.M), name
        assert re.search(r"^#define BLKIF_NODE_BE_FEATURE_ZERO_RANGE_DEFAULT\s+0$", nodes, re.M), name
        # The new constant sits with the other operations, after BLKIF_OP_INDIRECT, in every OS.
        assert blkif.index("BLKIF_OP_INDIRECT ") < blkif.index("BLKIF_OP_ZERO_RANGE") < blkif.index("BLKIF_RSP_")


def test_impact_reports_the_new_opcode_and_node_and_no_wire_break(project):
    spec = project / "specs" / "blkif.yaml"
    new = project / "new.yaml"
    new.write_text(edited_spec(spec.read_text()))
    res = run("impact", "--base", str(spec), str(new), cwd=project)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "+ constant BLKIF_OP_ZERO_RANGE: 7 (operation)" in out
    assert "+ node backend/feature-zero-range: bool, written by the backend" in out
    for name, prof in PROFILES.items():
        assert f"generated/{name}/{prof.output_for('blkif').path}: +" in out, name
        assert f"generated/{name}/{prof.output_for('nodes').path}: +" in out, name
        line = next(ln for ln in out.splitlines() if prof.output_for("blkif").path in ln)
        assert "BLKIF_OP_ZERO_RANGE" in line
    # Translation headers do not change: the new opcode has no struct of its own.
    for prof in PROFILES.values():
        assert prof.output_for("abi").path not in out
    assert "Wire ABI: unchanged on every ABI; extended on x86_32, x86_64, arm32, arm64" in out


def test_impact_says_plainly_when_the_wire_abi_changes(project):
    spec = project / "specs" / "blkif.yaml"
    new = project / "new.yaml"
    new.write_text(spec.read_text().replace("  - name: BLKIF_OP_DISCARD\n    value: 5",
                                            "  - name: BLKIF_OP_DISCARD\n    value: 9"))
    res = run("impact", "--base", str(spec), str(new), "--format", "json", cwd=project)
    data = json.loads(res.stdout)
    assert data["wire_changed"] is True
    assert data["wire_abi"] == {a: "breaking" for a in ("x86_32", "x86_64", "arm32", "arm64")}
    assert {"action": "changed", "kind": "constant", "name": "BLKIF_OP_DISCARD"}.items() <= data["elements"][0].items()
    text = run("impact", "--base", str(spec), str(new), cwd=project).stdout
    assert "Wire ABI: CHANGED on x86_32, x86_64, arm32, arm64" in text
    assert "value 5 -> 9" in text
    assert run("impact", "--base", str(spec), str(new), "--fail-on-abi-change", cwd=project).returncode == 1


def test_impact_reports_a_layout_change_on_one_abi(project):
    spec = project / "specs" / "blkif.yaml"
    text = spec.read_text()
    old = "x86_32: {size: 12, align: 4, offsets: {id: 0, operation: 8, status: 10}}"
    field = "        description: The id of the request answered.\n"
    assert old in text and text.count(field) == 1
    # A byte of padding before operation, on x86_32 only: C then puts it at 9.
    pad = field + "      - {name: pad, type: uint8_t, abis: [x86_32], padding: true}\n"
    new = project / "new.yaml"
    new.write_text(text.replace(field, pad).replace(
        old, "x86_32: {size: 12, align: 4, offsets: {id: 0, pad: 8, operation: 9, status: 10}}"))
    out = run("impact", "--base", str(spec), str(new), cwd=project).stdout
    assert "~ layout blkif_response on x86_32: offset of operation 8 -> 9" in out
    assert "Wire ABI: CHANGED on x86_32 --" in out


def test_impact_defaults_to_the_committed_spec(project):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "specs/blkif.yaml"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "spec"], cwd=project, check=True)
    spec = project / "specs" / "blkif.yaml"
    res = run("impact", cwd=project)
    assert res.returncode == 0 and "No element of the spec changed." in res.stdout
    assert "No generated file changes" in res.stdout
    spec.write_text(edited_spec(spec.read_text()))
    res = run("impact", cwd=project)
    assert res.returncode == 0, res.stderr
    assert "against HEAD:specs/blkif.yaml" in res.stdout
    assert "+ constant BLKIF_OP_ZERO_RANGE" in res.stdout


def test_impact_outside_git_is_a_clean_error(tmp_path):
    (tmp_path / "specs").mkdir()
    shutil.copy(SPEC, tmp_path / "specs" / "blkif.yaml")
    res = run("impact", cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "cannot read the committed version of the spec" in res.stderr and "--base" in res.stderr
