"""`xendrvgen image build|list`: the podman images of Debian suites that
`compile --os linux --runner podman --suite` builds in (compile/_images.py
makes them).

    xendrvgen image build [--suite LIST|all] [--force]
    xendrvgen image list
"""
from __future__ import annotations

import sys
import time

from xendrvgen.base.diagnostics import EXIT_BAD_INPUT as EXIT_BAD, EXIT_OK


def register(add, spec_arg, csv) -> None:
    from xendrvgen.compile._images import SUITES
    sp = add("image", cmd_image, "build the container images of Debian suites for the Linux compile matrix")
    sub = sp.add_subparsers(dest="action", required=True, metavar="build|list")
    b = sub.add_parser("build", help="debootstrap each suite, install the toolchain and its kernel headers, "
                                     "and import it into podman (an unchanged recipe is reused)")
    b.add_argument("--suite", type=csv, default=["all"], metavar="LIST",
                   help=f"comma-separated suites ({', '.join(SUITES)}) or all (default: all)")
    b.add_argument("--force", action="store_true", help="build again even when the recipe's image exists")
    sub.add_parser("list", help="each suite's image tag and whether it is built")


def cmd_image(args) -> int:
    from xendrvgen.compile import CompileError, _images
    if args.action == "list":
        for s in _images.SUITES:
            tag = _images.recipe(s).tag
            print(f"{s:9} {tag}  {'built' if _images.exists(tag) else 'not built'}")
        return EXIT_OK
    try:
        for s in _images.suites(args.suite):
            t0 = time.monotonic()
            tag, reused = _images.build(s, force=args.force, progress=lambda m: print(m, flush=True))
            print(f"{s}: {tag} ({'up to date, reused' if reused else f'built in {time.monotonic() - t0:.0f} s'})")
    except CompileError as exc:
        print(f"xendrvgen: {exc}", file=sys.stderr)
        return EXIT_BAD
    return EXIT_OK
