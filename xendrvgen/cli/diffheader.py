"""`xendrvgen diff-header`: compare any copy of blkif.h with the spec, or record
Xen's own copy in the documentation baseline (headers/compare/diffheader.py)."""
from __future__ import annotations

from xendrvgen.base.diagnostics import EXIT_MISMATCH, EXIT_OK

from . import headerargs


def cmd_diff_header(args) -> int:
    from xendrvgen.headers.compare import diffheader
    from xendrvgen import spec as spec_mod
    spec = spec_mod.load(args.spec)
    if args.record_docs:
        print(diffheader.record_docs(args.file, args.record_docs, args.profile, headerargs.options(args)))
        return EXIT_OK
    report = diffheader.diff_header(spec, args.file, args.profile, args.abi or spec.abi_names,
                                    headerargs.options(args))
    print(report.render(args.format))
    return EXIT_MISMATCH if report.differs else EXIT_OK


def register(add, spec_arg, csv) -> None:
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
