"""The `xendrvgen` command line.

Exit codes: 0 all good, 1 a mismatch or failure was found (validation, drift,
compile), 2 bad input (spec, header, arguments, missing tools).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys

from xendrvgen import __version__
from xendrvgen.base.diagnostics import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, SpecError, render

# The commands, in the order `xendrvgen --help` lists them: each module of this
# package adds its subparser in register(add, spec_arg, csv).
COMMANDS = ("schema", "validate", "layout", "contract", "generate", "check", "impact", "diffheader",
            "compile", "image", "plan", "modelcheck", "sim", "ci", "interop", "port")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _wanted(argv: list[str] | None) -> tuple:
    """The command modules the parser needs: only the one a valid command
    names (importing every command's module costs a cold start some 35 ms),
    else (and without argv) all of them, so that help and errors list
    every command."""
    first = next((a for a in argv or () if not a.startswith("-")), None)
    module = first.replace("-", "") if first else None
    return (module,) if module in COMMANDS else COMMANDS


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xendrvgen",
        description="Validate the Xen blkif spec against real headers and render per-OS headers and drivers.")
    p.add_argument("--version", action="version", version=f"xendrvgen {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    def spec_arg(sp):
        sp.add_argument("--spec", default="specs/blkif.yaml", metavar="FILE",
                        help="the protocol spec (default: specs/blkif.yaml)")

    for name in _wanted(argv):
        importlib.import_module(f"{__package__}.{name}").register(add, spec_arg, _csv)
    for sp in sub.choices.values():
        for action in sp._actions:
            if "--format" in action.option_strings and not action.help:
                action.help = "output: " + "; ".join(FORMATS[c] for c in action.choices) + " (default: text)"
    return p


FORMATS = {
    "text": "text for people",
    "json": "one JSON object (on bad input, exit 2: {\"ok\": false, \"errors\": [diagnostics]})",
    "github": "GitHub Actions annotations (::error file=...)",
}


def _terminated(signum, frame):
    # Python's default SIGTERM ends the process at once; an exception instead
    # runs the `finally` blocks that remove half-written temporary files.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):     # paths a terminal's encoding cannot spell
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    try:
        old_term = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:                          # not the main thread
        old_term = None
    try:
        argv = sys.argv[1:] if argv is None else argv
        return _run(build_parser(argv).parse_args(argv))
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _run(args) -> int:
    try:
        return args.func(args)
    except SpecError as exc:
        fmt = getattr(args, "format", "text")
        if fmt == "json":
            out = json.dumps({"ok": False, "errors": [d.as_dict() for d in exc.diagnostics]}, indent=2)
        else:
            out = render(exc.diagnostics, fmt if fmt == "github" else "text")
        print(out, file=sys.stdout if fmt in ("json", "github") else sys.stderr)
        n = len(exc.diagnostics)
        if fmt == "text":
            print(f"xendrvgen: {n} error{'s' if n != 1 else ''}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("xendrvgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug of ours, not bad input: say so briefly
        if os.environ.get("XENDRVGEN_DEBUG"):
            raise
        print(f"xendrvgen: internal error: {type(exc).__name__}: {exc}\n"
              "xendrvgen: this is a bug; rerun with XENDRVGEN_DEBUG=1 for the traceback and report it",
              file=sys.stderr)
        return EXIT_INTERNAL

