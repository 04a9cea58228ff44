"""`xendrvgen port new` and `port status`.

`port new` runs in a temporary copy of the project (its own package, so the
compile runner it writes is the one imported): the scaffold renders and
compiles as it stands, `port status` lists what is left, and bad input or an
existing port is refused with nothing touched.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "generated", "__pycache__", "*.egg-info",
                              ".pytest_cache")


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(root), XENDRVGEN_NO_CACHE="1")
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True)


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    dst = tmp_path_factory.mktemp("proj") / "xendrvgen"
    shutil.copytree(ROOT, dst, ignore=SKIP)
    return dst


@pytest.fixture(scope="module")
def demo(project):
    r = run(project, "port", "new", "demo", "--like", "netbsd", "--target", "x86_64-netbsd")
    assert r.returncode == 0, r.stderr
    return project


def test_scaffold_writes_every_part_of_a_port(demo):
    for rel in ("specs/os/demo.yaml", "templates/demo/xbd_xenbus.c.j2", "templates/demo/xbdback_xenbus.c.j2",
                "templates/demo/_kit.j2", "contracts/demo/contract.yaml", "xendrvgen/compile/demo.py",
                "docs/ports/demo.md"):
        assert (demo / rel).is_file(), rel
    kit = (demo / "templates/demo/xbd_xenbus.c.j2").read_text()
    assert "'demo/_kit.j2'" in kit and "'netbsd/" not in kit
    checklist = (demo / "docs/ports/demo.md").read_text()
    for prim in ("XenStore read", "XenStore transaction", "XenStore watch", "grant alloc", "grant map",
                 "event channel bind", "event channel notify", "DMA", "disk registration", "state switch",
                 "logging and fatal errors", "`fe_resize`", "`be_hot_unplug`"):
        assert prim in checklist, prim
    assert "publish_transport: `event-channel`" in checklist


def test_scaffold_renders_and_compiles_as_it_stands(demo):
    r = run(demo, "generate", "--os", "demo", "--out", str(demo / "generated"))
    assert r.returncode == 0, r.stderr
    r = run(demo, "compile", "--os", "demo", "--gen", str(demo / "generated"), "--work", str(demo / "build"))
    assert r.returncode == 0, r.stderr + r.stdout
    assert "xbd_xenbus.o" in r.stdout and "xbdback_xenbus.o" in r.stdout


def test_status_lists_exactly_what_is_left(demo):
    r = run(demo, "port", "status", "demo", "--format", "json", "--work", str(demo / "build"))
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)["oses"][0]
    assert [s["side"] for s in st["sides"]] == ["frontend", "backend"]
    open_items = {(s["side"], i["kind"], i["name"]) for s in st["sides"] for i in s["items"] if not i["done"]}
    assert {k for _, k, _ in open_items} == {"hook"}          # the plan is spelled; hooks stay to fill
    assert ("frontend", "hook", "fe_resize") in open_items and ("backend", "hook", "be_hot_unplug") in open_items
    left = "\n".join(st["left"])
    assert "still spell netbsd's kernel API" in left
    assert "declares no header yet" in left and "borrows netbsd's contract" in left
    assert len(st["left"]) == 3 + len(open_items)
    text = run(demo, "port", "status", "demo").stdout
    assert "left (" in text and "hook fe_resize: open at demo/xbd_xenbus.c:" in text


@pytest.mark.parametrize("args,message", [
    (["demo", "--like", "netbsd"], "already has a port"),
    (["Bad-Name", "--like", "netbsd"], "not a usable OS name"),
    (["import", "--like", "netbsd"], "not a usable OS name"),
    (["other", "--like", "plan9"], "unknown --like 'plan9'"),
    (["other", "--like", "netbsd", "--target", "sparc-plan9"], "unknown target 'sparc-plan9'"),
    (["other", "--like", "edk2", "--side", "backend"], "has no backend to start from"),
    (["other", "--like", "linux"], "give --target TRIPLE"),
])
def test_bad_input_is_refused_and_touches_nothing(demo, args, message):
    before = snapshot(demo)
    r = run(demo, "port", "new", *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert snapshot(demo) == before


def test_an_existing_file_in_the_way_is_refused(demo):
    (demo / "docs" / "ports" / "other.md").write_text("mine\n")
    before = snapshot(demo)
    r = run(demo, "port", "new", "other", "--like", "netbsd")
    assert r.returncode == 2 and "docs/ports/other.md already exists" in r.stderr
    assert snapshot(demo) == before


def test_status_of_the_tree_covers_every_os_and_the_markdown_table():
    r = run(ROOT, "port", "status", "--format", "json")
    assert r.returncode == 0, r.stderr
    oses = {s["os"]: s for s in json.loads(r.stdout)["oses"]}
    assert {"linux", "freebsd", "netbsd", "edk2", "openbsd"} <= set(oses)
    assert [s["side"] for s in oses["openbsd"]["sides"]] == ["frontend"]
    for name, st in oses.items():
        unspelled = [(s["side"], i["name"]) for s in st["sides"] for i in s["items"]
                     if i["kind"] != "hook" and not i["done"]]
        assert unspelled == [], name
    md = run(ROOT, "port", "status", "--format", "markdown").stdout
    assert "OpenBSD kernel (`openbsd`)" in md.splitlines()[0]
    readme = (ROOT / "README.md").read_text()
    assert md.strip() in readme, "README's plan table is stale: paste `xendrvgen port status --format markdown`"
