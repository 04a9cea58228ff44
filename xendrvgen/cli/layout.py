"""`xendrvgen layout`: per-ABI sizes and offsets measured from a real header,
beside the spec's (headers/compare/layouttable.py does the work)."""
from __future__ import annotations

from xendrvgen.base.diagnostics import EXIT_OK

from . import headerargs


def cmd_layout(args) -> int:
    from xendrvgen import spec as spec_mod
    spec = spec_mod.load(args.spec)
    from xendrvgen.headers.compare.layouttable import layout_table
    print(layout_table(spec, args.header, args.abi or spec.abi_names, args.format, headerargs.options(args)))
    return EXIT_OK


def register(add, spec_arg, csv) -> None:
    sp = add("layout", cmd_layout, "per-ABI sizes and offsets from a real header, beside the spec's")
    spec_arg(sp)
    sp.add_argument("--header", metavar="FILE", help="header to measure (default: Xen's installed blkif.h)")
    sp.add_argument("--abi", type=csv, metavar="LIST", help="comma-separated ABIs (default: all)")
    headerargs.add(sp)
    sp.add_argument("--format", choices=["text", "json"], default="text")
