"""`xendrvgen check`: is generated/ what the spec renders to, and does the spec
still match the upstream headers (render/uptodate.py does the work)?

Exit 0 up to date, 1 stale output or drift, 2 bad input.
"""
from __future__ import annotations

import sys

from xendrvgen.base.diagnostics import EXIT_MISMATCH, EXIT_OK

from .generate import inputs, output_args


def cmd_check(args) -> int:
    from xendrvgen.render import generate, uptodate
    inp = inputs(args)
    findings, n = uptodate.compare(inp, args.out)
    res = uptodate.CheckResult(args.out.rstrip("/") or ".", findings, n,
                               fix_command=uptodate.fix_command(args.spec, args.out, args.os))
    if args.fix and findings:
        changes = generate.generate(inp, args.out, force=True)
        for c in changes:
            if c.action in ("create", "update", "remove"):
                print(f"{c.shown}: {c.action}d" if c.action != "remove" else f"{c.shown}: removed",
                      file=sys.stderr)
        findings, n = uptodate.compare(inp, args.out)
        res.findings, res.files = findings, n
    if not args.no_validate:
        from xendrvgen.base.diagnostics import NOTE, Diagnostic, SpecError
        try:
            res.validation, res.validation_note = uptodate.run_validation(inp)
        except SpecError as exc:
            raise SpecError([*exc.diagnostics, Diagnostic(
                NOTE, "`xendrvgen check --no-validate` checks generated/ without the upstream headers")]) from None
    text = uptodate.render_result(res, args.format)
    if text:
        print(text)
    return EXIT_MISMATCH if res.failed else EXIT_OK


def register(add, spec_arg, csv) -> None:
    sp = add("check", cmd_check,
             "fail when generated/ differs from a fresh render or the spec drifted from upstream headers")
    output_args(sp, spec_arg, csv)
    sp.add_argument("--format", choices=["text", "json", "github"], default="text")
    sp.add_argument("--fix", action="store_true",
                    help="regenerate what is out of date (overwriting hand edits), then check again")
    sp.add_argument("--no-validate", action="store_true",
                    help="skip the comparison with the installed upstream headers")
