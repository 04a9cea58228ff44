"""Shared helper of the bench scripts: time a command over several cold runs."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def xendrvgen() -> list[str]:
    """How to start the CLI in a fresh process (the installed script if any)."""
    exe = shutil.which("xendrvgen", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "xendrvgen.cli"]


def time_command(argv: list[str], runs: int = 7, ok_codes=(0,), cwd: Path = ROOT) -> list[float]:
    """Wall time of each run, process start included."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode not in ok_codes:
            sys.exit(f"{' '.join(argv)} exited {r.returncode}:\n{r.stderr}")
    return times


def report(label: str, times: list[float]) -> None:
    print(f"{label:<40} min {min(times):.3f} s  median {statistics.median(times):.3f} s  "
          f"({len(times)} runs)")
