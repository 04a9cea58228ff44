"""`xendrvgen compile`: build the generated drivers of each OS with its toolchain.

    xendrvgen compile --os linux [--kdir DIR] [--tree DIR] [--runner local]
                      [--gen DIR | --spec FILE] [--work DIR] [--no-cache]
                      [--format text|json]
    xendrvgen compile --os LIST|all --runner podman --suite LIST|all

Builds what `generated/` holds (or, with --spec, what that spec renders to,
rendered afresh into the work directory).  With --suite, each OS builds in
the image of each Debian suite (`xendrvgen image build`), with the image's
own toolchain, in <work>/<os>-<suite>.  Prints the artifacts of each OS;
exits 0 when every build passed with zero warnings, 1 when one failed (the
toolchain's messages are printed), 2 on bad input or a missing toolchain
(naming the package to install).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from xendrvgen.base.diagnostics import EXIT_BAD_INPUT as EXIT_BAD, EXIT_MISMATCH as EXIT_FAIL, EXIT_OK


def register(add, spec_arg, csv) -> None:
    from xendrvgen.compile import known_oses
    sp = add("compile", cmd_compile, "compile-test the generated drivers with each OS's toolchain")
    sp.add_argument("--os", type=csv, required=True, metavar="LIST",
                    help=f"comma-separated OS names ({', '.join(known_oses())}) or all")
    sp.add_argument("--gen", default="generated", metavar="DIR",
                    help="root of the generated sources, holding <os>/ (default: generated)")
    sp.add_argument("--spec", metavar="FILE",
                    help="render this spec afresh (into the work directory) and build that instead of --gen")
    sp.add_argument("--kdir", metavar="DIR", help="Linux: kernel build directory (default: the installed headers)")
    sp.add_argument("--tree", metavar="DIR", help="a real source tree of the OS to build against")
    sp.add_argument("--runner", default="local", choices=["local", "podman"],
                    help="where the toolchain runs (default: local)")
    sp.add_argument("--image", metavar="IMAGE", help="container image for --runner podman")
    sp.add_argument("--suite", type=csv, metavar="LIST",
                    help="with --runner podman: build in the image of each Debian suite (bullseye, bookworm, "
                         "trixie, sid, or all) with its toolchain (Linux: its kernel headers; the BSDs: its zig); "
                         "the images come from `xendrvgen image build`")
    sp.add_argument("--work", default="build/compile", metavar="DIR",
                    help="build directory; each OS builds in DIR/<os> (default: build/compile)")
    sp.add_argument("--no-cache", action="store_true", help="rebuild even when nothing changed")
    sp.add_argument("--verbose", action="store_true", help="print the toolchain's whole output")
    sp.add_argument("--format", choices=["text", "json"], default="text")


def _render(spec_path: str, oses: list[str], out: Path) -> None:
    from xendrvgen.render import generate
    from xendrvgen.spec.osprofile import available
    from xendrvgen.base.paths import PROFILES_DIR
    with_profile = [o for o in oses if o in available(PROFILES_DIR)]
    inp = generate.load_inputs(spec_path, with_profile)
    generate.generate(inp, str(out), force=True)


def cmd_compile(args) -> int:
    from xendrvgen.compile import CompileError, known_oses
    oses = known_oses() if "all" in args.os else list(dict.fromkeys(args.os))
    unknown = [o for o in oses if o not in known_oses()]
    if unknown or not oses:
        print(f"xendrvgen: no compile test for {', '.join(unknown) or 'no OS'} (known: {', '.join(known_oses())})",
              file=sys.stderr)
        return EXIT_BAD
    if not args.spec:
        return _compile(args, oses, Path(args.gen))
    # A run that renders into the work directory holds all of it, so another
    # run's render cannot replace the sources under this one's builds.
    from xendrvgen.compile import work_lock
    work = Path(args.work).resolve()
    try:
        with work_lock(work):
            _render(args.spec, oses, work / "generated")
            return _compile(args, oses, work / "generated")
    except CompileError as exc:
        print(f"xendrvgen: {exc}", file=sys.stderr)
        return EXIT_BAD


def _jobs(args, oses: list[str]) -> list[tuple[str, str, dict]]:
    """(OS, label, build() keywords) of each build the arguments ask for."""
    from xendrvgen.compile import CompileError, _images
    work = Path(args.work)
    if not args.suite:
        return [(o, o, {"runner": args.runner, "image": args.image, "work_dir": work / o}) for o in oses]
    if args.runner != "podman" or args.image or args.kdir:
        raise CompileError("--suite builds in the podman images of Debian suites: use it with --runner podman, "
                           "without --image or --kdir")
    jobs = []
    for s in _images.suites(args.suite):
        tag = _images.recipe(s).tag
        if not _images.exists(tag):
            raise CompileError(f"no image for {s} yet ({tag}): build it with `xendrvgen image build --suite {s}`")
        jobs += [(o, f"{o} on {s}", {"runner": "podman", "image": tag, "work_dir": _images.work_dir(work, s, o)})
                 for o in oses]
    return jobs


def _compile(args, oses: list[str], gen: Path) -> int:
    from xendrvgen.compile import CompileError, build
    results, bad = [], []
    try:
        jobs = _jobs(args, oses)
    except CompileError as exc:
        print(f"xendrvgen: {exc}", file=sys.stderr)
        return EXIT_BAD
    for os_name, label, kw in jobs:
        try:
            r = build(os_name, gen, tree=args.tree, kdir=args.kdir, use_cache=not args.no_cache, **kw)
            r.label = label if args.suite else ""
            results.append(r)
        except CompileError as exc:
            bad.append((label, str(exc)))
    if args.format == "json":
        print(json.dumps({"ok": not bad and all(r.ok for r in results),
                          "results": [r.as_dict() for r in results],
                          "errors": [{"os": o, "message": m} for o, m in bad]}, indent=2))
    else:
        for o, m in bad:
            print(f"xendrvgen: {o}: {m}", file=sys.stderr)
        for r in results:
            _print_text(r, args.verbose)
    if bad:
        return EXIT_BAD
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAIL


def _print_text(r, verbose: bool) -> None:
    how = "unchanged, not rebuilt" if r.cached else f"{r.seconds:.1f} s"
    name = f"{r.label} ({r.built_with})" if r.label else r.os
    if r.ok:
        print(f"{name}: ok ({how})")
        for a in r.artifacts:
            print(f"  {a}")
        if verbose:
            print(r.log, end="" if r.log.endswith("\n") else "\n")
        return
    print(f"{name}: FAILED ({how})", file=sys.stderr)
    if r.warnings and not r.errors:
        print(f"  {len(r.warnings)} warning(s); warnings fail the build:", file=sys.stderr)
    shown = r.log if verbose or not (r.errors or r.warnings) else "\n".join(
        dict.fromkeys([*r.errors, *r.warnings]))
    for line in shown.splitlines():
        print(f"  {line}", file=sys.stderr)
