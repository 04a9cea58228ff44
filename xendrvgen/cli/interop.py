"""`xendrvgen interop`: the command line of the runtime interop harness.

    xendrvgen interop --os linux [--scenario NAME|fast|all] [--pairing LIST]
                      [--generated DIR] [--keep] [--format text|json]
                      [--timeout SECONDS] [--kdir DIR] [--list]

Exit codes: 0 every result PASS or SKIP, 1 a FAIL (or the generated drivers
do not build), 2 bad input or a missing tool (naming the package to install).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from xendrvgen.base.diagnostics import EXIT_BAD_INPUT as EXIT_BAD, EXIT_MISMATCH as EXIT_FAIL, EXIT_OK
from xendrvgen.interop import InteropError

BOOT_OVERHEAD = 120  # seconds per boot outside the units (Xen and dom0 start, poweroff)


def register(add, spec_arg, csv) -> None:
    sp = add("interop", cmd_interop,
             "boot Xen in QEMU and run the generated Linux drivers against Linux's own and each other")
    sp.add_argument("--os", default="linux", choices=["linux"], help="the generated drivers to run (linux)")
    sp.add_argument("--scenario", default="fast", metavar="NAME|fast|all",
                    help="comma-separated scenario names, `fast` (default) or `all`")
    sp.add_argument("--pairing", metavar="LIST",
                    help="comma-separated pairings FRONT-BACK: ours-stock, stock-ours, ours-ours (default: all)")
    sp.add_argument("--generated", metavar="DIR",
                    help="root of the generated sources, holding linux/ (default: the project's generated/)")
    sp.add_argument("--kdir", metavar="DIR", help="kernel build directory (default: the installed headers)")
    sp.add_argument("--keep", action="store_true", help="keep the run directory (initrds, plan, serial logs)")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--timeout", type=float, metavar="SECONDS",
                    help="hard limit for all boots together (default: from the scenarios' own limits)")
    sp.add_argument("--early-hotplug", action="store_true",
                    help="dom0 sets up each disk's loop device and writes the backend's physical-device before "
                         "libxl's hotplug script would (lets a backend that waits for it before InitWait be tested)")
    sp.add_argument("--list", action="store_true", help="print the scenario table and exit")


def _default_generated() -> Path:
    from xendrvgen.base.paths import ROOT
    here = Path("generated")
    return here if (here / "linux").is_dir() else ROOT / "generated"


def cmd_interop(args) -> int:
    from xendrvgen.interop import scenarios
    if args.list:
        return _list(args.format)
    try:
        chosen = scenarios.select(args.scenario)
        pairings = scenarios.select_pairings(args.pairing)
        if args.timeout is not None and args.timeout <= 0:
            raise InteropError("--timeout wants a positive number of seconds")
        return _run(args, scenarios.plan(pairings, chosen))
    except InteropError as exc:
        print(f"xendrvgen: interop: {exc}", file=sys.stderr)
        return EXIT_BAD


def _list(fmt: str) -> int:
    from xendrvgen.interop.scenarios import SCENARIOS
    if fmt == "json":
        print(json.dumps([{"name": s.name, "sets": list(s.sets), "timeout": s.timeout, "dom0": s.dom0,
                           "guest": s.guest, "expect": s.expect} for s in SCENARIOS], indent=2))
        return EXIT_OK
    for s in SCENARIOS:
        print(f"{s.name} ({', '.join(s.sets)}; limit {s.timeout} s)")
        print(f"  dom0:  {s.dom0}\n  guest: {s.guest}")
        if s.expect:
            print("  expect: " + ", ".join(f"{k} frontend {v}" for k, v in s.expect.items()))
    return EXIT_OK


def _run(args, units) -> int:
    from xendrvgen.interop import host, image, modules, runner
    from xendrvgen.interop.report import format_json, format_text, summary
    t0 = time.monotonic()
    say = (lambda m: print(m, file=sys.stderr)) if args.format == "text" else (lambda m: None)
    host.require(["qemu-system-x86_64"])
    host.static_busybox()
    generated = Path(args.generated) if args.generated else _default_generated()
    cache = image.cache_root()
    try:
        pair = modules.build(generated, cache, args.kdir)
    except modules.BuildFailed as exc:
        print(f"xendrvgen: interop: FAIL: {exc}", file=sys.stderr)
        for line in exc.lines:
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAIL
    say(f"modules: {', '.join(str(p) for p in pair.modules.values())} "
        f"({'unchanged' if pair.cached else f'built in {pair.seconds:.1f} s'}, kernel {pair.kver})")
    img = image.build(pair.kver, pair.modules, cache, log=say)
    say(f"image: {img.dir} ({f'built in {img.seconds:.1f} s' if img.built else 'cached'})")
    limit = args.timeout or (sum(u.timeout for u in units) + BOOT_OVERHEAD)
    run_dir = Path(tempfile.mkdtemp(prefix="xendrvgen-interop-"))
    say(f"running {len(units)} units ({len({u.pairing for u in units})} pairings) in QEMU/TCG, "
        f"limit {limit:.0f} s ...")

    def progress(r):
        say(f"  {r.status:4} {r.pairing} {r.scenario} ({r.seconds:.1f} s)")

    try:
        out = runner.run(img, units, run_dir, limit, progress,
                         ("early-hotplug",) if args.early_hotplug else ())
    finally:
        logs_dir = _keep_logs(run_dir, cache, args.keep)
    wall = time.monotonic() - t0
    boots = ", ".join(f"{b.seconds:.0f} s" + (f" (killed: {b.killed})" if b.killed else "") for b in out.boots)
    info = {"generated": str(generated), "early_hotplug": args.early_hotplug, "image": str(img.dir), "image_built": img.built,
            "image_seconds": img.seconds, "boots": [b.seconds for b in out.boots],
            "wall_seconds": round(wall, 1), "logs": str(logs_dir)}
    if args.format == "json":
        print(format_json(out.results, info))
    else:
        header = [f"xendrvgen interop --os linux: {generated}/linux against Linux {pair.kver}, Xen 4.17"
                  + (" (early hotplug)" if args.early_hotplug else "")]
        footer = [f"{summary(out.results)}; {len(out.boots)} boot(s): {boots}; wall {wall:.0f} s",
                  f"serial logs: {logs_dir}"]
        print(format_text(out.results, header, footer))
    return EXIT_FAIL if any(r.status == "FAIL" for r in out.results) else EXIT_OK


def _keep_logs(run_dir: Path, cache: Path, keep: bool) -> Path:
    """The run directory with --keep; else its serial logs under the cache (the last 8 runs)."""
    if keep:
        return run_dir
    dst = cache / "logs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    dst.mkdir(parents=True, exist_ok=True)
    for f in run_dir.glob("serial-*.log"):
        shutil.move(str(f), dst / f.name)
    shutil.rmtree(run_dir, ignore_errors=True)
    for old in sorted((cache / "logs").iterdir())[:-8]:
        shutil.rmtree(old, ignore_errors=True)
    return dst
