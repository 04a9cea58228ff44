"""The generated Linux blkfront/blkback pair: real kbuild builds, and what the code covers.

Builds run the kernel's own kbuild (Debian's linux-headers-amd64) with
-Werror, as `xendrvgen compile --os linux` does.  What the code must cover
(states, XenStore nodes, request checks, hooks) is derived from the spec and
the plan, and found in the generated C with comments stripped.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import feature_node

from xendrvgen import compile as xcompile
from xendrvgen.render import generate
from xendrvgen.spec import nodenames
from xendrvgen.compile import linux as linux_compile

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "blkif.yaml"
FRONT = ["xen-blkfront.c"]
BACK = ["xen-blkback/xenbus.c", "xen-blkback/blkback.c", "xen-blkback/common.h"]


def render_linux(spec_path: Path, out: Path) -> Path:
    inp = generate.load_inputs(str(spec_path), ["linux"])
    generate.generate(inp, str(out), force=True)
    return out


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def code_of(gen: Path, files: list[str]) -> str:
    return "\n".join(strip_comments((gen / "linux" / f).read_text()) for f in files)




@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    return render_linux(SPEC, tmp_path_factory.mktemp("gen"))


@pytest.fixture(scope="module")
def built(gen, tmp_path_factory):
    res = xcompile.build("linux", gen, work_dir=tmp_path_factory.mktemp("work"), use_cache=False)
    assert res.ok, f"kbuild failed:\n{res.log}"
    return res


# --- the build ------------------------------------------------------------------

def test_both_modules_build_with_zero_warnings(built):
    names = sorted(Path(a).name for a in built.artifacts)
    assert names == ["xen-blkback.ko", "xen-blkfront.ko"]
    assert built.warnings == [] and built.errors == []
    assert "-Werror" in (Path(built.work_dir) / "src" / "Kbuild").read_text()


def test_modinfo_shows_the_xen_vbd_aliases(built, plan):
    modinfo = shutil.which("modinfo") or "/usr/sbin/modinfo"
    assert Path(modinfo).exists(), "modinfo is missing: install Debian's kmod"
    ko = {Path(a).name: a for a in built.artifacts}
    front = subprocess.run([modinfo, "-F", "alias", ko["xen-blkfront.ko"]], capture_output=True, text=True, check=True)
    back = subprocess.run([modinfo, "-F", "alias", ko["xen-blkback.ko"]], capture_output=True, text=True, check=True)
    assert f"xen:{plan.device_type}" in front.stdout.split()
    assert f"xen-backend:{plan.device_type}" in back.stdout.split()
    lic = subprocess.run([modinfo, "-F", "license", ko["xen-blkfront.ko"]], capture_output=True, text=True)
    assert "GPL" in lic.stdout     # the xenbus and grant-table symbols are GPL-only


def test_each_module_is_for_the_kernel_it_was_built_against(built, tmp_path):
    """The build reads each module's vermagic with modinfo: it names the
    release of the headers, and a module for another release fails."""
    for ko in ("xen-blkfront.ko", "xen-blkback.ko"):
        assert f"{ko}: vermagic {built.kernel} " in built.log, built.log[-2000:]
    other = tmp_path / "kdir" / "include" / "generated"
    other.mkdir(parents=True)
    (other / "utsrelease.h").write_text('#define UTS_RELEASE "9.9.9-other"\n')
    job = xcompile.Job(os="linux", gen_dir=tmp_path, work_dir=tmp_path, runner=xcompile.LocalRunner())
    errors = []
    release, _ = linux_compile._check_vermagic(job, tmp_path / "kdir", tmp_path, built.artifacts, errors, "")
    assert release == "9.9.9-other" and len(errors) == 2, errors
    assert all("not for the kernel it was built against (9.9.9-other)" in e for e in errors)


def test_unchanged_inputs_are_not_rebuilt_and_changed_ones_are(gen, tmp_path):
    work = tmp_path / "work"
    first = xcompile.build("linux", gen, work_dir=work)
    assert first.ok and not first.cached, first.log
    again = xcompile.build("linux", gen, work_dir=work)
    assert again.cached and again.ok and again.artifacts == first.artifacts
    # One byte of one input changes: built again.
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / "linux" / "xen-blkfront.c"
    f.write_text(f.read_text() + "\n/* touched */\n")
    changed = xcompile.build("linux", copy, work_dir=work)
    assert changed.ok and not changed.cached and changed.key != first.key


def test_a_warning_fails_the_build(gen, tmp_path):
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / "linux" / "xen-blkfront.c"
    f.write_text(f.read_text() + "\nstatic int xdg_never_used(void) { return 0; }\n")
    res = xcompile.build("linux", copy, work_dir=tmp_path / "work", use_cache=False)
    assert not res.ok
    assert any("xdg_never_used" in line for line in res.errors + res.warnings), res.log


def test_missing_kernel_headers_name_the_package(monkeypatch, gen, tmp_path):
    monkeypatch.delenv("KDIR", raising=False)
    monkeypatch.setattr(linux_compile.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(linux_compile.os, "uname", lambda: type("u", (), {"release": "0.0.0-none"})())
    with pytest.raises(xcompile.ToolchainMissing) as exc:
        xcompile.build("linux", gen, work_dir=tmp_path)
    assert "linux-headers-amd64" in str(exc.value)


def test_bad_kdir_is_bad_input(gen, tmp_path):
    with pytest.raises(xcompile.CompileError) as exc:
        xcompile.build("linux", gen, work_dir=tmp_path, kdir=tmp_path / "nowhere")
    assert "--kdir" in str(exc.value)


def test_compile_command_builds_the_committed_tree(tmp_path):
    """`xendrvgen compile --os linux` on generated/ (what CI runs), text and JSON."""
    cmd = [sys.executable, "-m", "xendrvgen.cli", "compile", "--os", "linux", "--work", str(tmp_path)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "xen-blkfront.ko" in r.stdout and "xen-blkback.ko" in r.stdout
    j = subprocess.run(cmd + ["--format", "json"], cwd=ROOT, capture_output=True, text=True)
    assert j.returncode == 0
    import json
    data = json.loads(j.stdout)
    assert data["ok"] and data["results"][0]["cached"] is True


def test_compile_command_reports_failures_and_bad_input(gen, tmp_path):
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / "linux" / "xen-blkback" / "blkback.c"
    f.write_text(f.read_text() + "\nint xdg_broken = ;\n")
    base = [sys.executable, "-m", "xendrvgen.cli", "compile", "--os", "linux", "--work", str(tmp_path / "w")]
    r = subprocess.run(base + ["--gen", str(copy)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1
    assert "blkback.c" in r.stderr and "error" in r.stderr
    r = subprocess.run(base + ["--gen", str(tmp_path / "empty")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "xendrvgen generate" in r.stderr
    r = subprocess.run(base + ["--os", "plan9"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "plan9" in r.stderr
    if shutil.which("podman") is None:
        r = subprocess.run(base + ["--runner", "podman", "--image", "none"], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 2 and "apt-get install podman" in r.stderr


# --- what the code covers, derived from the spec -------------------------------------

def switch_cases(code: str, func: str) -> dict:
    """{other end's state: [own states with a nested case]} of a rendered otherend_changed."""
    start = re.search(rf"void {func}\([^;{{]*\)\n\{{", code)
    assert start, f"no definition of {func}"
    body = code[start.start():]
    body = body[:body.index("\n}\n")]
    out: dict = {}
    for m in re.finditer(r"^\tcase XenbusState(\w+):\n(.*?)(?=^\tcase |^\tdefault:)", body, flags=re.S | re.M):
        out[m.group(1)] = re.findall(r"^\t\tcase XenbusState(\w+):", m.group(2), flags=re.M)
    return out


@pytest.mark.parametrize("side,files,func", [("frontend", FRONT, "xbf_backend_changed"),
                                             ("backend", ["xen-blkback/xenbus.c"], "xbb_frontend_changed")])
def test_state_handler_covers_every_state_of_the_other_end(gen, spec, side, files, func):
    cases = switch_cases(code_of(gen, files), func)
    assert set(cases) == {s.name for s in spec.states}
    sm = spec.machine(side)
    for other, owns in cases.items():
        expected = {own for own in sm.states() if other not in sm.ignores and sm.reaction(own, other)}
        assert set(owns) == expected, (other, owns)


@pytest.mark.parametrize("side,files", [("frontend", FRONT), ("backend", BACK)])
def test_driver_touches_every_node_of_its_side(gen, spec, plan, side, files):
    code = code_of(gen, files)
    header = (gen / "linux" / "include" / "xen" / "interface" / "io" / "blkif_nodes.h").read_text()
    for node_side, name in plan.side(side).touched():   # the spec's nodes but retired ones (test_plan)
        n = spec.node(node_side, name)
        macro = nodenames.node_macro(n)
        assert re.search(rf'#define {macro}\s+"{re.escape(n.name)}"', header), macro
        assert re.search(rf"\b{macro}\b", code), f"{side} never uses {n.side}/{n.name} ({macro})"


def test_reads_use_the_spec_default(gen, plan):
    code = code_of(gen, FRONT + BACK)
    for side in ("frontend", "backend"):
        for use in plan.side(side).reads:
            if use.shape == "scalar" and use.type in ("bool", "uint32", "uint64", "bitmap") and use.default \
                    and use.default.kind == "int":
                assert re.search(rf"xdg_read_ull\(\w+, {use.macro}, {use.default.value},", code), use.name


def test_backend_applies_every_request_check_of_the_plan(gen, plan):
    text = (gen / "linux" / "xen-blkback" / "blkback.c").read_text()
    dispatch = text[text.index("static void xbb_dispatch("):]
    for o in plan.requests.ops:
        block = dispatch[dispatch.index(f"\tcase {o.constant}:"):]
        block = block[:re.search(r"\n\tcase |\n\tdefault:", block[1:]).start() + 1]
        for c in o.checks:
            assert f"check {c.id}:" in block, (o.constant, c.id)
    assert "#error" not in text


def test_backend_reads_each_ring_slot_once(gen):
    code = code_of(gen, ["xen-blkback/blkback.c"])
    uses = re.findall(r"[^\n]*RING_GET_REQUEST\([^\n]*", code)
    assert uses and all(re.search(r"memcpy\(&\w+, RING_GET_REQUEST\(", u) for u in uses), uses
    assert "RING_REQUEST_PROD_OVERFLOW" in code
    # translated requests are converted from the private copy, never from the ring
    assert not re.search(r"blkif_get_\w+_req\([^;]*RING_GET", code)


def test_backend_responses_write_every_byte(gen, spec, plan):
    code = code_of(gen, ["xen-blkback/blkback.c"])
    native = code[code.index("static void xbb_put_native_rsp("):]
    native = native[:native.index("\n}\n")]
    assert "memset(buf, 0, sizeof(buf))" in native and "memcpy(slot, buf, sizeof(buf))" in native
    for v in {p.variant for p in plan.transport.protocols if p.variant}:
        assert f"blkif_put_{v}_rsp(RING_GET_RESPONSE(" in code


@pytest.mark.parametrize("side,files", [("frontend", FRONT), ("backend", BACK)])
def test_every_hook_is_marked_in_the_code_and_documented(gen, plan, side, files):
    text = "\n".join((gen / "linux" / f).read_text() for f in files)
    docs = (ROOT / "docs" / "features.md").read_text()
    for h in plan.side(side).hooks:
        assert f"XENDRVGEN HOOK({h.id})" in text, h.id
        assert f"`{h.id}`" in docs, h.id
    marked = set(re.findall(r"XENDRVGEN HOOK\((\w+)\)", text))
    assert marked == {h.id for h in plan.side(side).hooks}


def test_a_spec_with_one_more_feature_node_renders_a_frontend_that_reads_it_and_builds(tmp_path):
    text = SPEC.read_text()
    extra = feature_node("feature-xdg-probe", "xdg_probe", "A feature added by a test.") + "\n"
    anchor = "xenstore_nodes:\n"
    spec_copy = tmp_path / "blkif.yaml"
    spec_copy.write_text(text.replace(anchor, anchor + extra, 1))
    gen = render_linux(spec_copy, tmp_path / "gen")
    front = code_of(gen, FRONT)
    assert re.search(r"xdg_read_ull\(peer, BLKIF_NODE_BE_FEATURE_XDG_PROBE, 0, ", front)
    assert re.search(r"xenbus_printf\(xbt, own, BLKIF_NODE_BE_FEATURE_XDG_PROBE,", code_of(gen, BACK))
    res = xcompile.build("linux", gen, work_dir=tmp_path / "work", use_cache=False)
    assert res.ok and not res.warnings, res.log


@pytest.mark.parametrize("side,files,var", [("frontend", FRONT, "info->neg"), ("backend", BACK, "be->neg")])
def test_every_decision_is_settled_somewhere(gen, plan, side, files, var):
    """Each negotiated value of the plan is assigned in the driver: one that
    moved to another action and lost its settle would stay 0 (a backend that
    refuses every flush)."""
    code = code_of(gen, files)
    for dec in plan.side(side).decisions:
        assert re.search(rf"{re.escape(var)}\.{dec.negotiation}\s*=[^=]", code), f"{side} never settles {dec.negotiation}"
