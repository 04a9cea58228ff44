"""Running a plan in as few boots as possible.

All units go to one boot.  A watchdog gives each unit its own time limit; when
a unit hangs (or dom0 crashes, or asks for a reboot because a backend module
would not unload), that unit is reported and a new boot runs the units left.
A boot that makes no progress ends the run, so a broken image cannot loop.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import qemu
from .cpio import archive, gz
from .report import Collector, Result, relevant
from .scenarios import Unit, plan_text

MAX_BOOTS = 6
BOOT_LIMIT = 240      # seconds from QEMU's start to dom0's XDG-READY
BETWEEN_UNITS = 300   # seconds for a pairing switch or the final poweroff
SLACK = 30


@dataclass
class Outcome:
    results: list = field(default_factory=list)
    boots: list = field(default_factory=list)      # qemu.Boot of each boot
    logs: list = field(default_factory=list)       # serial log of each boot


def run(image, units: list[Unit], run_dir: Path, limit: float, progress=lambda r: None,
        options: tuple = ()) -> Outcome:
    out = Outcome()
    remaining = list(units)
    end = time.monotonic() + limit
    while remaining:
        n = len(out.boots) + 1
        left = end - time.monotonic()
        if n > MAX_BOOTS or left < 60:
            why = "the run's time limit was reached" if left < 60 else f"{MAX_BOOTS} boots were not enough"
            out.results += _fail_all(remaining, f"not run: {why}", [], progress)
            break
        initrd = run_dir / f"initrd-{n}.cpio.gz"
        shutil.copyfile(image.initrd, initrd)
        with open(initrd, "ab") as fh:
            fh.write(gz(archive([("xdg", 0o040755, b""),
                                 ("xdg/plan", 0o100644, plan_text(remaining, options).encode())]), 1))
        log = run_dir / f"serial-{n}.log"
        col, boot = _boot(image, initrd, log, left, remaining, progress)
        out.boots.append(boot)
        out.logs.append(log)
        out.results += col.results
        done = col.ended | {(r.pairing, r.scenario.split("/")[0]) for r in col.results}
        if col.current is not None and col.current not in done:
            out.results.append(_unfinished(col, boot, remaining, progress))
            done.add(col.current)
        before = len(remaining)
        remaining = [u for u in remaining if (u.pairing, u.scenario) not in done]
        if not col.ready:
            why = col.boot_fail or boot.killed or f"QEMU exited with status {boot.rc}"
            out.results += _fail_all(remaining, f"the machine did not get to the scenarios: {why}",
                                     col.tail[-80:], progress)
            break
        if remaining and (len(remaining) == before or col.done):
            why = col.reboot or "dom0 stopped without running them"
            out.results += _fail_all(remaining, f"not run: {why}", col.tail[-40:], progress)
            break
    return out


def _boot(image, initrd: Path, log: Path, left: float, units: list[Unit], progress):
    col = Collector()
    timeouts = {(u.pairing, u.scenario): u.timeout for u in units}
    t0 = time.monotonic()
    # since: when the running unit began, or when the last one ended
    state = {"unit": None, "since": t0, "ready": False, "seen": 0}

    def on_line(line: str) -> None:
        col.feed(line)
        if col.current != state["unit"] or col.ready != state["ready"]:
            state["unit"], state["ready"], state["since"] = col.current, col.ready, time.monotonic()
        while state["seen"] < len(col.results):
            progress(col.results[state["seen"]])
            state["seen"] += 1

    def watchdog():
        if not col.ready:
            return t0 + BOOT_LIMIT
        if col.current is not None:
            return state["since"] + timeouts.get(col.current, 600) + SLACK
        return state["since"] + BETWEEN_UNITS

    cmd = qemu.command(image.xen, image.kernel, initrd)
    boot = qemu.boot(cmd, log, left, on_line, watchdog)
    col.begun_at = state["since"]
    return col, boot


def _unfinished(col: Collector, boot, units: list[Unit], progress) -> Result:
    pairing, scenario = col.current
    timeout = next((u.timeout for u in units if (u.pairing, u.scenario) == col.current), 0)
    if boot.killed == "watchdog":
        why = f"no result within {timeout} s: the scenario hung (the machine was killed)"
    elif boot.killed:
        why = f"not finished: {boot.killed}"
    else:
        why = "not finished: the machine stopped in the middle of it (a dom0 crash or a Xen panic?)"
    r = Result(pairing, scenario, "FAIL", round(time.monotonic() - col.begun_at, 1), why,
               relevant(col.unit_lines) + ["--- last lines of the console ---"] + col.tail[-25:])
    progress(r)
    return r


def _fail_all(units: list[Unit], why: str, logs: list, progress) -> list[Result]:
    out = []
    for u in units:
        r = Result(u.pairing, u.scenario, "FAIL", 0.0, why, list(logs) if not out else [])
        progress(r)
        out.append(r)
    return out
