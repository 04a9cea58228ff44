"""Command-line entry points of generate, check, impact and diff-header.

Exit codes as everywhere: 0 all good, 1 a difference was found (stale
output, drift, a hand-edited file in the way, a header that differs), 2 bad
input (raised as SpecError and printed by cli.main).
"""
from __future__ import annotations

import argparse
import sys

from . import headerargs
from .paths import DEFAULT_OUT, PROFILES_DIR, TEMPLATES_DIR

EXIT_OK, EXIT_DIFF = 0, 1


def _out_dir(value: str) -> str:
    if not value:   # os.path.join("", ...) would write into the working directory
        raise argparse.ArgumentTypeError("must name a directory, not be empty (e.g. --out generated)")
    return value


def _common(sp, spec_arg, csv) -> None:
    spec_arg(sp)
    sp.add_argument("--os", type=csv, metavar="LIST",
                    help="comma-separated OS names (default: every profile in specs/os/)")
    sp.add_argument("--out", default=DEFAULT_OUT, type=_out_dir, metavar="DIR",
                    help=f"output directory (default: {DEFAULT_OUT})")
    sp.add_argument("--profiles", default=str(PROFILES_DIR), metavar="DIR", help="OS profiles directory")
    sp.add_argument("--templates", default=str(TEMPLATES_DIR), metavar="DIR", help="templates directory")


def _inputs(args):
    from .generate import load_inputs
    # lazy: a check or generate whose every file is in the render cache parses nothing
    return load_inputs(args.spec, args.os, profiles_dir=args.profiles, templates_dir=args.templates,
                       lazy=True)


def cmd_generate(args) -> int:
    from . import generate
    from .diagnostics import SpecError, render
    inp = _inputs(args)
    try:
        changes = generate.generate(inp, args.out, force=args.force)
    except SpecError as exc:
        if all("pass --force" in d.message for d in exc.diagnostics):
            print(render(exc.diagnostics), file=sys.stderr)
            print(f"xendrvgen: nothing was written; {len(exc.diagnostics)} file(s) edited by hand "
                  "are in the way", file=sys.stderr)
            return EXIT_DIFF
        raise
    for c in changes:
        if c.action in ("create", "update", "remove"):
            print(f"{c.shown}: {dict(create='created', update='updated', remove='removed')[c.action]}"
                  + (f" ({c.reason})" if c.reason else ""))
        elif c.action == "kept":
            print(f"{c.shown}: left alone, {c.reason}")
    print(generate.summary(changes))
    return EXIT_OK


def cmd_check(args) -> int:
    from . import gencheck, generate
    inp = _inputs(args)
    findings, n = gencheck.compare(inp, args.out)
    res = gencheck.CheckResult(args.out.rstrip("/") or ".", findings, n,
                               fix_command=gencheck.fix_command(args.spec, args.out, args.os))
    if args.fix and findings:
        changes = generate.generate(inp, args.out, force=True)
        for c in changes:
            if c.action in ("create", "update", "remove"):
                print(f"{c.shown}: {c.action}d" if c.action != "remove" else f"{c.shown}: removed",
                      file=sys.stderr)
        findings, n = gencheck.compare(inp, args.out)
        res.findings, res.files = findings, n
    if not args.no_validate:
        from .diagnostics import NOTE, Diagnostic, SpecError
        try:
            res.validation, res.validation_note = gencheck.run_validation(inp)
        except SpecError as exc:
            raise SpecError([*exc.diagnostics, Diagnostic(
                NOTE, "`xendrvgen check --no-validate` checks generated/ without the upstream headers")]) from None
    text = gencheck.render_result(res, args.format)
    if text:
        print(text)
    return EXIT_DIFF if res.failed else EXIT_OK


def cmd_impact(args) -> int:
    from . import impact
    report = impact.impact(args.spec_file or args.spec, args.base, profiles_dir=args.profiles,
                           templates_dir=args.templates)
    print(report.render(args.format))
    return EXIT_DIFF if (args.fail_on_abi_change and report.wire_changed) else EXIT_OK


def cmd_diff_header(args) -> int:
    from . import diffheader, spec as spec_mod
    spec = spec_mod.load(args.spec)
    if args.record_docs:
        print(diffheader.record_docs(args.file, args.record_docs, args.profile, headerargs.options(args)))
        return EXIT_OK
    report = diffheader.diff_header(spec, args.file, args.profile, args.abi or spec.abi_names,
                                    headerargs.options(args))
    print(report.render(args.format))
    return EXIT_DIFF if report.differs else EXIT_OK


def register(add, spec_arg, csv) -> None:
    sp = add("generate", cmd_generate,
             "render the spec into generated/<os>/ (atomic; only changed files are written)")
    _common(sp, spec_arg, csv)
    sp.add_argument("--force", action="store_true",
                    help="overwrite generated files even if they were edited by hand")

    sp = add("check", cmd_check,
             "fail when generated/ differs from a fresh render or the spec drifted from upstream headers")
    _common(sp, spec_arg, csv)
    sp.add_argument("--format", choices=["text", "json", "github"], default="text")
    sp.add_argument("--fix", action="store_true",
                    help="regenerate what is out of date (overwriting hand edits), then check again")
    sp.add_argument("--no-validate", action="store_true",
                    help="skip the comparison with the installed upstream headers")

    sp = add("impact", cmd_impact,
             "what a spec change does: changed elements, generated files, and whether the wire ABI changed")
    spec_arg(sp)
    sp.add_argument("spec_file", nargs="?", metavar="SPEC",
                    help="the changed spec (default: --spec, i.e. specs/blkif.yaml)")
    sp.add_argument("--base", metavar="SPEC",
                    help="the spec to compare with (default: the committed version, git HEAD)")
    sp.add_argument("--profiles", default=str(PROFILES_DIR), metavar="DIR", help="OS profiles directory")
    sp.add_argument("--templates", default=str(TEMPLATES_DIR), metavar="DIR", help="templates directory")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--fail-on-abi-change", action="store_true",
                    help="exit 1 when the wire ABI changed on any ABI")

    sp = add("diff-header", cmd_diff_header,
             "compare any copy of blkif.h with the spec: missing constants and structs, layout differences")
    spec_arg(sp)
    sp.add_argument("file", metavar="FILE", help="the copy of blkif.h to compare")
    sp.add_argument("--profile", metavar="NAME",
                    help="header profile (specs/headers/NAME.yaml; default: chosen by the header's content)")
    sp.add_argument("--abi", type=csv, metavar="LIST", help="comma-separated ABIs (default: all)")
    headerargs.add(sp)
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--record-docs", metavar="VERSION",
                    help="record FILE (Xen's own blkif.h of release VERSION) in the documentation "
                         "baseline, specs/headers/docs/xen-blkif.yaml, instead of comparing")
