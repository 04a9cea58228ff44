"""`xendrvgen generate`: render the spec into generated/<os>/, atomically,
writing only the files that changed; also the options generate and check share.

Exit 0 written, 1 files edited by hand are in the way (nothing written), 2 bad
input (raised as SpecError and printed by cli.dispatch).
"""
from __future__ import annotations

import argparse
import sys

from xendrvgen.base.diagnostics import EXIT_MISMATCH, EXIT_OK
from xendrvgen.base.paths import DEFAULT_OUT, PROFILES_DIR, TEMPLATES_DIR


def _out_dir(value: str) -> str:
    if not value:   # os.path.join("", ...) would write into the working directory
        raise argparse.ArgumentTypeError("must name a directory, not be empty (e.g. --out generated)")
    return value


def output_args(sp, spec_arg, csv) -> None:
    spec_arg(sp)
    sp.add_argument("--os", type=csv, metavar="LIST",
                    help="comma-separated OS names (default: every profile in specs/os/)")
    sp.add_argument("--out", default=DEFAULT_OUT, type=_out_dir, metavar="DIR",
                    help=f"output directory (default: {DEFAULT_OUT})")
    sp.add_argument("--profiles", default=str(PROFILES_DIR), metavar="DIR", help="OS profiles directory")
    sp.add_argument("--templates", default=str(TEMPLATES_DIR), metavar="DIR", help="templates directory")


def inputs(args):
    from xendrvgen.render.generate import load_inputs
    # lazy: a check or generate whose every file is in the render cache parses nothing
    return load_inputs(args.spec, args.os, profiles_dir=args.profiles, templates_dir=args.templates,
                       lazy=True)


def cmd_generate(args) -> int:
    from xendrvgen.render import generate
    from xendrvgen.base.diagnostics import SpecError, render
    inp = inputs(args)
    try:
        changes = generate.generate(inp, args.out, force=args.force)
    except SpecError as exc:
        if all("pass --force" in d.message for d in exc.diagnostics):
            print(render(exc.diagnostics), file=sys.stderr)
            print(f"xendrvgen: nothing was written; {len(exc.diagnostics)} file(s) edited by hand "
                  "are in the way", file=sys.stderr)
            return EXIT_MISMATCH
        raise
    for c in changes:
        if c.action in ("create", "update", "remove"):
            print(f"{c.shown}: {dict(create='created', update='updated', remove='removed')[c.action]}"
                  + (f" ({c.reason})" if c.reason else ""))
        elif c.action == "kept":
            print(f"{c.shown}: left alone, {c.reason}")
    print(generate.summary(changes))
    return EXIT_OK


def register(add, spec_arg, csv) -> None:
    sp = add("generate", cmd_generate,
             "render the spec into generated/<os>/ (atomic; only changed files are written)")
    output_args(sp, spec_arg, csv)
    sp.add_argument("--force", action="store_true",
                    help="overwrite generated files even if they were edited by hand")
