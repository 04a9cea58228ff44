"""Boot Xen with the dom0 image in QEMU (TCG), non-interactively, under a hard time limit.

The serial console is the only channel out: every line goes to the log file
and to a callback as it arrives.  The callback may move a watchdog deadline
(the runner gives each scenario its own), and the machine is killed, with its
whole process group, when any deadline passes or the caller is interrupted.
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import InteropError
from .host import which

# Xen: serial console, dom0 memory and vcpus; smap/smep off or the PV dom0
# dies on its first page fault under TCG.
XEN_ARGS = ("console=com1 com1=115200,8n1 dom0_mem=1024M dom0_max_vcpus=2 loglvl=all "
            "smap=0 smep=0 bootscrub=0")
DOM0_ARGS = "console=hvc0 earlyprintk=xen loglevel=4"
CPU = "qemu64"
# Three CTRL-a give Xen the serial input; then its debug keys: '0' dom0's vCPU
# registers and guest stacks, 'q' the domains and their vCPUs' event state.
XEN_SWITCH = b"\x01\x01\x01"
DEBUG_KEYS = b"0q"
DUMP_SECONDS = 20   # at most, for Xen to print the dump
DUMP_QUIET = 3      # seconds of silence that end it sooner


@dataclass
class Boot:
    rc: int | None          # QEMU's exit status; None when it was killed
    seconds: float
    killed: str = ""        # why it was killed ("" when it exited by itself)


def command(xen: Path, kernel: Path, initrd: Path) -> list[str]:
    for p in (xen, kernel, initrd):
        if "," in str(p) or " " in str(p):
            raise InteropError(f"{p}: QEMU cannot take a path with a comma or a space here")
    cpu = os.environ.get("XENDRVGEN_QEMU_CPU", CPU)
    return [which("qemu-system-x86_64"), "-accel", os.environ.get("XENDRVGEN_QEMU_ACCEL", "tcg,thread=multi"), "-cpu", cpu,
            "-m", "3072", "-smp", "2", "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-nodefaults", "-kernel", str(xen), "-append", f"{XEN_ARGS} {os.environ.get('XENDRVGEN_XEN_EXTRA', '')}".strip(),
            "-initrd", f"{kernel} {DOM0_ARGS},{initrd}"]


def boot(cmd: list[str], log_path: Path, limit: float, on_line=lambda line: None,
         watchdog=lambda: None) -> Boot:
    """Run QEMU until it exits, `limit` seconds pass, or watchdog() returns a passed deadline
    (a time.monotonic() value, or None for no deadline); with a reason when it was killed."""
    t0 = time.monotonic()
    end = t0 + limit
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    killed, buf, dump_until = "", b"", None
    try:
        with open(log_path, "wb") as log:
            while True:
                now = time.monotonic()
                wd = watchdog()
                if now >= end:
                    killed = f"the run took longer than its limit of {limit:.0f} s"
                    break
                if dump_until is not None and now >= dump_until:
                    killed = "watchdog"
                    break
                if dump_until is None and wd is not None and now >= wd:
                    dump_until = now + DUMP_SECONDS if _ask_xen_for_state(proc) else now
                    continue
                ready, _, _ = select.select([proc.stdout], [], [], 1.0)
                if not ready:
                    if dump_until is not None:   # Xen has printed what it had
                        dump_until = min(dump_until, now + DUMP_QUIET)
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    on_line(line.decode("utf-8", "replace").rstrip("\r"))
            if buf:
                on_line(buf.decode("utf-8", "replace").rstrip("\r"))
    finally:
        if proc.poll() is None:
            _kill(proc)
        proc.stdout.close()
        with contextlib.suppress(OSError):
            proc.stdin.close()
    return Boot(None if killed else proc.returncode, round(time.monotonic() - t0, 1), killed)


def _ask_xen_for_state(proc: subprocess.Popen) -> bool:
    """Before a hung machine is killed: switch the serial input to Xen and press
    the debug keys that print dom0's vCPUs with their guest stacks and every
    domain's event channel state, so the log shows where it hung."""
    try:
        proc.stdin.write(XEN_SWITCH + DEBUG_KEYS)
        proc.stdin.flush()
        return True
    except OSError:
        return False


def _kill(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
