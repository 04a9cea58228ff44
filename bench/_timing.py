"""Shared helper of the bench scripts: time a command over several cold runs.

A figure is the wall time of a new process (interpreter start included), as
min and median over the runs.  cold() also times `python -c pass` with the
same interpreter in the same rounds, interleaved, and report() prints each
figure's ratio to it: on a loaded or slower machine both move together, so
the ratio means more than the seconds.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = [sys.executable, "-c", "pass"]


def xendrvgen() -> list[str]:
    """How to start the CLI in a fresh process (the installed script if any)."""
    exe = shutil.which("xendrvgen", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "xendrvgen.cli"]


def _once(argv: list[str], ok_codes=(0,), cwd: Path = ROOT, env=None) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    if r.returncode not in ok_codes:
        sys.exit(f"{' '.join(argv)} exited {r.returncode}:\n{r.stderr}")
    return took


def time_command(argv: list[str], runs: int = 7, ok_codes=(0,), cwd: Path = ROOT, env=None) -> list[float]:
    """Wall time of each run, process start included."""
    return [_once(argv, ok_codes, cwd, env) for _ in range(runs)]


def cold(cases: dict, runs: int = 10) -> tuple[dict, list[float]]:
    """Time every case once per round, after `python -c pass`, for `runs` rounds.

    cases: {label: (argv, env or None, before() or None)}; before runs
    untimed ahead of each timed run (e.g. to empty an output directory).
    Returns ({label: times}, baseline times).
    """
    times: dict = {label: [] for label in cases}
    base = []
    for _ in range(runs):
        base.append(_once(BASELINE))
        for label, (argv, env, before) in cases.items():
            if before:
                before()
            times[label].append(_once(argv, env=env))
    return times, base


def report(label: str, times: list[float], base: list[float] | None = None) -> None:
    line = f"{label:<48} min {min(times):.3f} s  median {statistics.median(times):.3f} s"
    if base:
        line += (f"  = {min(times) / min(base):4.1f}x / {statistics.median(times) / statistics.median(base):4.1f}x"
                 " python -c pass")
    print(line + f"  ({len(times)} runs)")


def report_baseline(base: list[float]) -> None:
    report("python -c pass (the baseline)", base)


def use_bytecode(keep: bool) -> None:
    """Time runs with .pyc files written and used, as after any install: unset
    PYTHONDONTWRITEBYTECODE for every child, unless keep (e.g. --as-is)."""
    if not keep and os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        print("(PYTHONDONTWRITEBYTECODE is unset for the timed runs, so modules load from .pyc "
              "as after an install; --as-is keeps it)")
