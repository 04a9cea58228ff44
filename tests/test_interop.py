"""`xendrvgen interop` without a VM: the image recipe's hash, the in-VM
scripts, the data pattern, result parsing, the runner's handling of hangs,
reports, and the messages for missing tools."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xendrvgen import cli
from xendrvgen.interop import InteropError, MissingTool, cpio, host, image, report, runner, scenarios
from xendrvgen.interop.debs import Deb

ROOT = Path(__file__).resolve().parents[1]
VM = ROOT / "interop" / "linux"
BUSYBOX = shutil.which("busybox")


# --- the recipe's hash ---------------------------------------------------------
DEBS = [Deb("xen-utils-4.17", "xen-utils-4.17_4.17.7_amd64.deb", 100, "a" * 64)]


def test_image_key_follows_scripts_and_modules_only():
    scripts = {"lib.sh": b"echo 1\n", "dom0-init.sh": b"init\n"}
    mods = {"xen-blkfront": b"ko-front", "xen-blkback": b"ko-back"}
    key = image.image_key("base", scripts, mods)
    assert image.image_key("base", dict(scripts), dict(mods)) == key
    assert image.image_key("base", {**scripts, "lib.sh": b"echo 2\n"}, mods) != key
    assert image.image_key("base", scripts, {**mods, "xen-blkback": b"ko-back2"}) != key
    assert image.image_key("other-base", scripts, mods) != key


def test_base_key_follows_packages_and_host_files(tmp_path):
    f = tmp_path / "busybox"
    f.write_bytes(b"one")
    key = image.base_key("6.1.0-57-amd64", DEBS, [f])
    assert image.base_key("6.1.0-57-amd64", list(DEBS), [f]) == key
    newer = [Deb("xen-utils-4.17", "xen-utils-4.17_4.17.8_amd64.deb", 100, "b" * 64)]
    assert image.base_key("6.1.0-57-amd64", newer, [f]) != key
    assert image.base_key("6.1.0-58-amd64", DEBS, [f]) != key
    f.write_bytes(b"two")
    assert image.base_key("6.1.0-57-amd64", DEBS, [f]) != key


def test_vm_scripts_are_the_shipped_ones():
    names = set(image.vm_scripts())
    assert {"lib.sh", "dom0-init.sh", "dom0-lib.sh", "scenarios.sh", "domu-init.sh", "domu-steps.sh"} <= names


def test_a_killed_build_leaves_no_cache_entry(tmp_path):
    dst = tmp_path / "abc"

    def half_then_die(tmp):
        (tmp / "dom0.cpio.gz").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        image._atomic(dst, half_then_die)
    assert not dst.exists() and list(tmp_path.iterdir()) == []
    image._atomic(dst, lambda tmp: (tmp / "dom0.cpio.gz").write_bytes(b"whole"))
    assert (dst / "dom0.cpio.gz").read_bytes() == b"whole"


# --- cpio ------------------------------------------------------------------------
def test_cpio_archives_are_deterministic_and_readable(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"hello")
    (tmp_path / "l").symlink_to("d/f")
    one = cpio.archive(cpio.tree_entries(tmp_path))
    assert one == cpio.archive(cpio.tree_entries(tmp_path))
    assert cpio.gz(one) == cpio.gz(one)
    if shutil.which("cpio"):
        out = subprocess.run(["cpio", "-t", "--quiet"], input=one, capture_output=True).stdout.decode().split()
        assert out == ["d", "d/f", "l"]


# --- the in-VM scripts -------------------------------------------------------------
@pytest.mark.parametrize("script", sorted(p.name for p in VM.glob("*.sh")))
def test_scripts_parse(script):
    sh = BUSYBOX and [BUSYBOX, "sh"] or ["sh"]
    p = subprocess.run([*sh, "-n", str(VM / script)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_every_scenario_has_its_dom0_function_and_every_step_exists():
    dom0 = (VM / "scenarios.sh").read_text() + (VM / "dom0-lib.sh").read_text()
    for s in scenarios.SCENARIOS:
        assert re.search(rf"^sc_{s.name.replace('-', '_')}\(\)", dom0, re.M), s.name
    steps = set(re.findall(r"^(\w+)\(\)", (VM / "domu-steps.sh").read_text(), re.M))
    called = set(re.findall(r"gcall (?:-t \S+ )?(\w+)", dom0))
    assert called <= steps | {"true"}, called - steps


def _pattern_from_shell(tmp_path, seed, off, length):
    pat = tmp_path / "pat.bin"
    if not pat.exists():
        pat.write_bytes(image.pattern())
    cmd = f". {VM / 'lib.sh'}; pat {seed} {off} {length}"
    return subprocess.run([BUSYBOX, "sh", "-c", cmd], env={"XDG_PAT": str(pat), "PATH": os.environ["PATH"]},
                          capture_output=True, check=True).stdout


def _pattern_model(seed, off, length):
    base, mib, out = image.pattern(), 1 << 20, b""
    for k in range(off // mib, (off + length - 1) // mib + 1):
        r = (seed * 131 + k * 37) % 256
        out += base[r * 4096:] + base[:r * 4096]
    start = off - (off // mib) * mib
    return out[start:start + length]


@pytest.mark.skipif(BUSYBOX is None, reason="apt-get install busybox-static")
@pytest.mark.parametrize("seed,off,length", [(11, 0, 4096), (11, 12800, 1536), (3, (1 << 20) - 512, 1024),
                                              (61, 24 << 20, 3 << 20)])
def test_data_pattern_is_position_dependent_and_reproducible(tmp_path, seed, off, length):
    got = _pattern_from_shell(tmp_path, seed, off, length)
    assert got == _pattern_model(seed, off, length)
    # Overlapping writes of one seed agree, other offsets and seeds differ.
    assert _pattern_model(seed, off + 512, 512) == got[512:1024]
    assert _pattern_model(seed, off + 4096, 512) != got[:512]
    assert _pattern_model(seed + 1, off, 512) != got[:512]


# --- scenarios and plans --------------------------------------------------------------
def test_selection_of_scenarios_and_pairings():
    assert [s.name for s in scenarios.select("fast")] == ["attach-rw", "hot-detach", "save-restore"]
    assert len(scenarios.select("all")) == len(scenarios.SCENARIOS)
    assert [s.name for s in scenarios.select("save-restore,attach-rw")] == ["attach-rw", "save-restore"]
    with pytest.raises(InteropError, match="unknown scenario 'bogus'"):
        scenarios.select("bogus")
    assert scenarios.select_pairings(None) == ["ours-stock", "stock-ours", "ours-ours"]
    with pytest.raises(InteropError, match="unknown pairing"):
        scenarios.select_pairings("ours-theirs")


def test_plan_names_modes_and_knobs():
    units = scenarios.plan(["ours-stock", "stock-ours"], scenarios.select("detach-open"))
    text = scenarios.plan_text(units)
    assert "unit ours-stock ours stock detach-open strict 300" in text
    assert "unit stock-ours stock ours detach-open lenient 300" in text
    assert "knob ours indirect param:max_indirect_segments=0" in text
    assert "knob stock indirect -" in text
    for back, knobs in scenarios.KNOBS.items():
        assert set(knobs) == set(scenarios.FEATURES), back


# --- result lines and reports ------------------------------------------------------------
LOG = """(XEN) Xen version 4.17
XDG-READY
XDG-BEGIN {"pairing":"ours-stock","scenario":"attach-rw","mode":"strict"}
DOM0| [10.0] guest: wr xvda -> rc 0
XDG-RESULT {"pairing":"ours-stock","scenario":"attach-rw","status":"PASS","seconds":12.3,"detail":"ok"}
XDG-END {"pairing":"ours-stock","scenario":"attach-rw"}
XDG-BEGIN {"pairing":"ours-stock","scenario":"features-off","mode":"strict"}
DOM0| [20.0] FAIL: backend still offers feature-persistent
XS| /local/domain/0/backend/vbd/1/51792/feature-persistent = "1"
XDG-RESULT {"pairing":"ours-stock","scenario":"features-off/persistent","status":"FAIL","seconds":5,"detail":"backend still offers feature-persistent"}
XDG-RESULT {"pairing":"ours-stock","scenario":"features-off/flush","status":"SKIP","seconds":0.1,"detail":"no knob"}
XDG-END {"pairing":"ours-stock","scenario":"features-off"}
XDG-BEGIN {"pairing":"ours-stock","scenario":"save-restore","mode":"strict"}
DOM0| [30.0] guest: bw_start xvda -> rc 0
"""


def test_result_lines_parse():
    kind, data = report.parse_line('junk XDG-RESULT {"pairing":"a","scenario":"b","status":"PASS","seconds":1}')
    assert kind == "RESULT" and report.parse_result(data).status == "PASS"
    assert report.parse_line("DOM0| nothing") is None
    assert report.parse_result({"pairing": "a", "scenario": "b", "status": "MAYBE"}) is None
    assert report.parse_line("XDG-RESULT {broken")[1] == {"raw": "{broken"}


def test_collector_follows_units_and_keeps_failure_logs():
    col = report.Collector()
    for line in LOG.splitlines():
        col.feed(line)
    assert col.ready and not col.done
    assert [(r.scenario, r.status) for r in col.results] == [
        ("attach-rw", "PASS"), ("features-off/persistent", "FAIL"), ("features-off/flush", "SKIP")]
    assert col.ended == {("ours-stock", "attach-rw"), ("ours-stock", "features-off")}
    assert col.current == ("ours-stock", "save-restore")
    fail = col.results[1]
    assert any("feature-persistent" in l for l in fail.logs) and any(l.startswith("XS| ") for l in fail.logs)


def test_report_text_and_json():
    rs = [report.Result("ours-stock", "attach-rw", "PASS", 12.3, "ok"),
          report.Result("ours-stock", "hot-detach", "FAIL", 4.0, "xvdb never appeared", ["DOM0| [1] FAIL: x"])]
    text = report.format_text(rs, ["head"], [report.summary(rs)])
    assert re.search(r"^PASS  ours-stock  attach-rw \s+12\.3 s  ok$", text, re.M)
    assert re.search(r"^FAIL  ours-stock  hot-detach \s+4\.0 s  xvdb never appeared$", text, re.M)
    assert "      | DOM0| [1] FAIL: x" in text and text.endswith("1 passed, 1 failed, 0 skipped")
    data = json.loads(report.format_json(rs, {"wall_seconds": 1}))
    assert data["ok"] is False and data["results"][1]["logs"] == ["DOM0| [1] FAIL: x"]


# --- the runner: hangs, crashes, restarts -------------------------------------------------
class FakeImage:
    def __init__(self, d: Path):
        self.xen = self.kernel = self.initrd = d / "img"
        self.initrd.write_bytes(b"x")


def _fake_boots(monkeypatch, consoles):
    """Each boot prints the next console and ends as told ("" exited, or a kill reason)."""
    from xendrvgen.interop import qemu
    plans = []

    def boot(cmd, log_path, limit, on_line, watchdog):
        text, killed = consoles.pop(0)
        for line in text.splitlines():
            on_line(line)
        plans.append(gzip.decompress(Path(cmd[-1].split(",")[-1]).read_bytes()[1:]))  # after FakeImage's b"x"
        return qemu.Boot(None if killed else 0, 1.0, killed)

    monkeypatch.setattr(qemu, "boot", boot)
    monkeypatch.setattr(qemu, "command", lambda x, k, i: ["qemu", f"{k} args,{i}"])
    return plans


def test_a_hung_unit_fails_and_the_rest_run_in_a_new_boot(monkeypatch, tmp_path):
    units = scenarios.plan(["ours-stock"], scenarios.select("attach-rw,hot-detach,save-restore"))
    first = "\n".join(LOG.splitlines()[:6]) + '\nXDG-BEGIN {"pairing":"ours-stock","scenario":"hot-detach"}\nDOM0| stuck\n'
    second = ('XDG-READY\nXDG-BEGIN {"pairing":"ours-stock","scenario":"save-restore"}\n'
              'XDG-RESULT {"pairing":"ours-stock","scenario":"save-restore","status":"PASS","seconds":9}\n'
              'XDG-END {"pairing":"ours-stock","scenario":"save-restore"}\nXDG-DONE all\n')
    plans = _fake_boots(monkeypatch, [(first, "watchdog"), (second, "")])
    out = runner.run(FakeImage(tmp_path), units, tmp_path, 3600)
    got = {(r.scenario, r.status) for r in out.results}
    assert got == {("attach-rw", "PASS"), ("hot-detach", "FAIL"), ("save-restore", "PASS")}
    hung = next(r for r in out.results if r.scenario == "hot-detach")
    assert "hung" in hung.detail and any("stuck" in l for l in hung.logs)
    assert len(out.boots) == 2 and b"hot-detach" not in plans[1] and b"save-restore" in plans[1]


def test_a_machine_that_never_boots_fails_every_unit_once(monkeypatch, tmp_path):
    units = scenarios.plan(["ours-stock", "ours-ours"], scenarios.select("fast"))
    _fake_boots(monkeypatch, [("(XEN) Panic on CPU 0\n", "")])
    out = runner.run(FakeImage(tmp_path), units, tmp_path, 3600)
    assert len(out.results) == 6 and all(r.status == "FAIL" for r in out.results)
    assert "did not get to the scenarios" in out.results[0].detail
    assert "(XEN) Panic on CPU 0" in out.results[0].logs


def test_a_hung_machine_is_asked_for_xens_state_before_it_is_killed(tmp_path):
    """qemu.boot on a watchdog: Xen gets CTRL-a x3 and its debug keys on the
    serial input, what it prints is logged, then the machine is killed.  The
    machine here is a process that prints what reaches its serial input."""
    from xendrvgen.interop import qemu
    import sys
    echo = ("import sys, os\nprint('booted', flush=True)\n"
            "while True:\n    b = os.read(0, 64)\n    if not b: break\n"
            "    print('serial in:', b.hex(), flush=True)\n")
    lines = []
    t0 = __import__("time").monotonic()
    boot = qemu.boot([sys.executable, "-c", echo], tmp_path / "serial.log", 60, lines.append,
                     lambda: t0 + 1)
    assert boot.killed == "watchdog" and boot.rc is None
    sent = "".join(l.split(": ")[1] for l in lines if l.startswith("serial in:"))
    assert bytes.fromhex(sent) == qemu.XEN_SWITCH + qemu.DEBUG_KEYS
    assert "serial in:" in (tmp_path / "serial.log").read_text()
    assert boot.seconds < qemu.DUMP_SECONDS + 10


# --- missing tools and bad input -------------------------------------------------------------
def test_missing_tools_name_their_packages(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(MissingTool) as e:
        host.require(["qemu-system-x86_64", "depmod"])
    assert "apt-get install kmod qemu-system-x86" in str(e.value)


def test_cli_without_qemu_exits_2_naming_the_package(monkeypatch, capsys):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda t, **k: None if t == "qemu-system-x86_64" else real(t, **k))
    assert cli.main(["interop", "--os", "linux"]) == 2
    err = capsys.readouterr().err
    assert "qemu-system-x86_64" in err and "apt-get install qemu-system-x86" in err and "Traceback" not in err


def test_cli_without_static_busybox_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(host, "_is_static", lambda p: False)
    monkeypatch.setattr(host, "which", lambda t: "/usr/bin/" + t)
    assert cli.main(["interop"]) == 2
    assert "apt-get install busybox-static" in capsys.readouterr().err


@pytest.mark.parametrize("argv,msg", [(["--scenario", "nope"], "unknown scenario 'nope'"),
                                      (["--pairing", "a-b"], "unknown pairing"),
                                      (["--timeout", "-1"], "positive number")])
def test_cli_bad_arguments_exit_2(argv, msg, capsys):
    assert cli.main(["interop", *argv]) == 2
    assert msg in capsys.readouterr().err


def test_cli_generated_dir_without_linux_exits_2(tmp_path, capsys):
    if shutil.which("qemu-system-x86_64") is None or not host._is_static(Path("/bin/busybox")):
        pytest.skip("needs qemu-system-x86 and busybox-static to get that far")
    assert cli.main(["interop", "--generated", str(tmp_path)]) == 2
    assert "no linux/ directory" in capsys.readouterr().err


def test_busybox_is_recognised_as_static():
    if BUSYBOX and host._is_static(Path(BUSYBOX)):
        assert host.static_busybox()
    assert not host._is_static(Path(shutil.which("ls")))


def test_list_prints_the_table(capsys):
    assert cli.main(["interop", "--list", "--format", "json"]) == 0
    names = [s["name"] for s in json.loads(capsys.readouterr().out)]
    assert names == [s.name for s in scenarios.SCENARIOS]


# --- the module build, without a VM --------------------------------------------
@pytest.mark.skipif(not list(Path("/usr/src").glob("linux-headers-*-amd64")),
                    reason="apt-get install linux-headers-amd64")
def test_the_generated_pair_builds_into_the_modules_a_run_boots(tmp_path):
    from xendrvgen.interop import modules
    pair = modules.build(ROOT / "generated", tmp_path)
    assert sorted(pair.modules) == sorted(modules.NAMES) and all(p.is_file() for p in pair.modules.values())
    assert (pair.kdir / "Makefile").is_file() and pair.kver
