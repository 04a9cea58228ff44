"""`xendrvgen impact`: what a spec change does to the elements, the generated
files and the wire ABI (render/impact.py does the work)."""
from __future__ import annotations

from xendrvgen.base.diagnostics import EXIT_MISMATCH, EXIT_OK
from xendrvgen.base.paths import PROFILES_DIR, TEMPLATES_DIR


def cmd_impact(args) -> int:
    from xendrvgen.render import impact
    report = impact.impact(args.spec_file or args.spec, args.base, profiles_dir=args.profiles,
                           templates_dir=args.templates)
    print(report.render(args.format))
    return EXIT_MISMATCH if (args.fail_on_abi_change and report.wire_changed) else EXIT_OK


def register(add, spec_arg, csv) -> None:
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
