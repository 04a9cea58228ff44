#!/usr/bin/env python3
"""Wall time of `xendrvgen compile`: the Linux pair here, the images of Debian
suites, and every OS built in those images (the container matrix).

    bench/compile.py [RUNS] [--suites LIST] [--build-images] [--matrix-runs N]

- `compile --os linux`, cold (an empty work directory: kbuild builds both
  modules) and unchanged (the input-hash cache answers without running make),
  RUNS times each (default 5).
- `image build`, per suite: the first build (debootstrap, apt-get, ziglang,
  podman import; minutes) when the image is missing or with --build-images
  (which rebuilds it: --force), and the reuse of an unchanged recipe.
- the matrix, `compile --os all --runner podman --suite LIST`: cold (an
  empty work directory and an empty cache directory, so the probes of each
  image's toolchain run too) and unchanged (no container is started), with
  the median seconds of each OS and suite in the cold runs.

Process start included.  The image part needs root, podman, runc and
debootstrap; it is skipped, saying so, without them.  --suites defaults to
the kernel matrix of `xendrvgen ci`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import ROOT, report, time_command, xendrvgen
from xendrvgen.compile import _images

p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
p.add_argument("runs", nargs="?", type=int, default=5)
p.add_argument("--suites", default=",".join(_images.MATRIX))
p.add_argument("--build-images", action="store_true", help="rebuild each suite's image (--force), to time it")
p.add_argument("--matrix-runs", type=int, default=2)
opts = p.parse_args()
suites = _images.suites(opts.suites.split(","))
x = xendrvgen()
tmp = Path(tempfile.mkdtemp(prefix="xendrvgen-bench-compile-"))
work = tmp / "work"


def run(argv: list[str], env=None) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return took, r.stdout


def cold(argv: list[str], runs: int, private_cache: bool = False) -> tuple[list[float], list[str]]:
    times, outs = [], []
    for i in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        env = dict(os.environ, XENDRVGEN_CACHE_DIR=str(tmp / f"cache-{i}")) if private_cache else None
        took, out = run(argv, env)
        times.append(took)
        outs.append(out)
    return times, outs


def images() -> None:
    for s in suites:
        tag = _images.recipe(s).tag
        if opts.build_images or not _images.exists(tag):
            took, _ = run(x + ["image", "build", "--suite", s, *(["--force"] if opts.build_images else [])])
            print(f"{f'image build --suite {s}, first build':<48} {took:.1f} s  (1 run)")
        else:
            print(f"image build --suite {s}, first build: not timed ({tag} exists; --build-images rebuilds it)")
        report(f"image build --suite {s}, reused", time_command(x + ["image", "build", "--suite", s], opts.runs))


def matrix() -> None:
    argv = x + ["compile", "--os", "all", "--runner", "podman", "--suite", ",".join(suites),
                "--work", str(work), "--format", "json"]
    times, outs = cold(argv, opts.matrix_runs, private_cache=True)
    report(f"matrix {','.join(suites)} x all OSes, cold", times)
    each: dict = {}
    for out in outs:
        for r in json.loads(out)["results"]:
            each.setdefault(r["label"], []).append(r["seconds"])
    for label, secs in each.items():
        print(f"  {label:<46} median {statistics.median(secs):.1f} s")
    report(f"matrix {','.join(suites)} x all OSes, unchanged", time_command(argv, opts.runs))


try:
    linux = x + ["compile", "--os", "linux", "--work", str(work)]
    report("compile --os linux, cold", cold(linux, opts.runs)[0])
    report("compile --os linux, unchanged", time_command(linux, opts.runs))
    missing = [t for t in ("podman", "runc", "debootstrap") if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        why = f"{', '.join(missing)} missing" if missing else "not root"
        print(f"images and the container matrix: skipped ({why})")
    else:
        images()
        matrix()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
