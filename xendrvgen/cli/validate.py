"""`xendrvgen validate`: check the spec, and compare it with real copies of
blkif.h (headers/compare/validate.py does the work)."""
from __future__ import annotations

from xendrvgen.base.diagnostics import EXIT_MISMATCH, EXIT_OK, SpecError

from . import headerargs


def cmd_validate(args) -> int:
    from xendrvgen.headers.compare import verdictcache
    slot = verdictcache.slot(args.spec, str(args.spec), args.header, args.include, args.define)
    report = verdictcache.remembered(slot, lambda: _validate(args))
    print(report.render(args.format))
    return EXIT_MISMATCH if report.failed else EXIT_OK


def _validate(args):
    from xendrvgen import spec as spec_mod
    from xendrvgen.headers.compare.validate import start, validate_all
    # The header analysis (gcc, libclang) runs while the spec is loaded.
    options = headerargs.options(args)
    pending = start(args.header or None, options=options)
    try:
        spec = spec_mod.load(args.spec)
    except BaseException:
        if not isinstance(pending, SpecError):
            pending.close()
        raise
    return validate_all(spec, args.header or None, pending, options)


def register(add, spec_arg, csv) -> None:
    sp = add("validate", cmd_validate, "check the spec, and compare it with real blkif.h headers")
    spec_arg(sp)
    sp.add_argument("--header", action="append", metavar="FILE",
                    help="a copy of blkif.h to compare with (repeatable; default: the installed ones)")
    headerargs.add(sp)
    sp.add_argument("--format", choices=["text", "json", "github"], default="text")
