"""`xendrvgen ci`: the main job in one command.

Validate the spec against the installed upstream headers, check that
generated/ is what the spec renders to (drift), then compile-test every OS
whose toolchain this machine has, then in containers: the Linux drivers in
the image of each Debian suite of the kernel matrix, and every other OS in
the image of the newest one (its pinned zig, its clang).  A missing
toolchain or image is reported with what brings it and skipped (or fails
with --strict); everything else that goes wrong fails the job.
"""
from __future__ import annotations

import sys
import time

from xendrvgen.base.diagnostics import EXIT_BAD_INPUT, EXIT_MISMATCH, EXIT_OK


def cmd_ci(args) -> int:
    from xendrvgen.render import uptodate
    from xendrvgen.compile import CompileError, ToolchainMissing, build, known_oses
    from xendrvgen.render.generate import load_inputs

    unknown = [o for o in args.os or () if o not in known_oses()]
    if unknown:   # bad input, found before anything runs
        print(f"xendrvgen: no compile test for {', '.join(unknown)} (known: {', '.join(known_oses())})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    failed = False
    t0 = time.perf_counter()
    inp = load_inputs(args.spec, None)
    print(f"== spec {args.spec}: schema and semantic checks passed")

    findings, n = uptodate.compare(inp, args.out)
    res = uptodate.CheckResult(args.out, findings, n,
                               fix_command=uptodate.fix_command(args.spec, args.out, None))
    res.validation, res.validation_note = uptodate.run_validation(inp)
    print("== upstream headers and generated files")
    print(uptodate.render_result(res, "text"))
    failed |= res.failed

    for os_name in args.os or known_oses():
        try:
            r = build(os_name, args.out, use_cache=not args.no_cache)
        except ToolchainMissing as exc:
            print(f"== compile {os_name}: SKIPPED, {exc}")
            failed |= args.strict
            continue
        except CompileError as exc:
            print(f"== compile {os_name}: ERROR, {exc}", file=sys.stderr)
            failed = True
            continue
        failed |= _report(f"== compile {os_name}", r, artifacts=True)
    failed |= _in_images(args, args.os or known_oses())
    print(f"== {'FAILED' if failed else 'all good'} in {time.perf_counter() - t0:.1f} s")
    return EXIT_MISMATCH if failed else EXIT_OK


def _in_images(args, oses: list[str]) -> bool:
    """Linux in each suite's image of the matrix, the other OSes in the
    newest suite's image; True when that fails the job."""
    from pathlib import Path
    from xendrvgen.compile import CompileError, _images, _podman, build
    failed = False
    pairs = [("linux", s) for s in _images.MATRIX if "linux" in oses]
    pairs += [(o, _images.MATRIX[-1]) for o in oses if o != "linux"]
    for os_name, suite in pairs:
        tag = _images.recipe(suite).tag
        what = f"== compile {os_name} on {suite}"
        if not _podman.available() or not _images.exists(tag):
            why = (f"podman and runc are missing ({_podman.INSTALL})" if not _podman.available()
                   else f"no image yet (build it: xendrvgen image build --suite {suite})")
            print(f"{what}: SKIPPED, {why}")
            failed |= args.strict
            continue
        try:
            r = build(os_name, args.out, runner="podman", image=tag,
                      work_dir=_images.work_dir(Path("build/compile"), suite, os_name), use_cache=not args.no_cache)
        except CompileError as exc:
            print(f"{what}: ERROR, {exc}", file=sys.stderr)
            failed = True
            continue
        failed |= _report(f"{what} ({r.built_with})", r)
    return failed


def _report(what: str, r, artifacts: bool = False) -> bool:
    """Print one build's line (and what failed); True when it failed."""
    how = "unchanged, not rebuilt" if r.cached else f"{r.seconds:.1f} s"
    print(f"{what}: {'ok' if r.ok else 'FAILED'} ({how})")
    for a in r.artifacts if artifacts else ():
        print(f"  {a}")
    for line in () if r.ok else (r.errors or r.warnings or r.log.splitlines())[:40]:
        print(f"  {line}", file=sys.stderr)
    return not r.ok


def register(add, spec_arg, csv) -> None:
    sp = add("ci", cmd_ci, "the main job: validate against upstream headers, check generated/ for drift, "
                           "compile-test every OS this machine can")
    spec_arg(sp)
    sp.add_argument("--out", default="generated", metavar="DIR", help="the committed output (default: generated)")
    sp.add_argument("--os", type=csv, metavar="LIST", help="OSes to compile-test (default: all)")
    sp.add_argument("--strict", action="store_true", help="fail, rather than skip, when a toolchain is missing")
    sp.add_argument("--no-cache", action="store_true", help="rebuild even when nothing changed")

