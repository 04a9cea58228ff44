"""`xendrvgen port new|status`: scaffold an OS port from its closest
neighbour, or show what each port spells of the driver plan (the work is in
xendrvgen/port/)."""
from __future__ import annotations

import sys
from pathlib import Path

from xendrvgen.base import paths
from xendrvgen.base.diagnostics import EXIT_BAD_INPUT, EXIT_OK


def cmd_port(args) -> int:
    if args.action == "new":
        from xendrvgen.port.scaffold import PortError, plan_scaffold, write
        if len(args.names) != 1 or not args.like:
            print("xendrvgen port new: give one OS name and --like EXISTING", file=sys.stderr)
            return EXIT_BAD_INPUT
        root = Path(paths.ROOT)
        try:
            sc = plan_scaffold(root, args.names[0], args.like, args.target, args.side)
            written = write(root, sc)
        except PortError as exc:
            print(f"xendrvgen port new: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"xendrvgen port new: {sc.os} ({', '.join(sc.sides)}) from {sc.like}, target {sc.target}:")
        for rel in written:
            if not rel.endswith("/.keep"):
                print(f"  {rel}")
        print(f"next: xendrvgen generate --os {sc.os} && xendrvgen compile --os {sc.os}; "
              f"then docs/ports/{sc.os}.md, and `xendrvgen port status {sc.os}`")
        return EXIT_OK
    from xendrvgen.port import status
    st = status.status(args.names or None, args.spec, Path(args.work))
    print(status.render(st, args.format))
    return EXIT_OK


def register(add, spec_arg, csv) -> None:
    sp = add("port", cmd_port, "scaffold a new OS port from an existing one (new), or show what each "
                               "port spells of the driver plan (status)")
    sp.add_argument("action", choices=["new", "status"])
    sp.add_argument("names", nargs="*", metavar="OS", help="new: the OS to create; status: OSes (default: all)")
    sp.add_argument("--like", metavar="EXISTING", help="new: the port to start from")
    sp.add_argument("--target", metavar="TRIPLE",
                    help="new: zig cc target (e.g. x86_64-openbsd) or 'host' (default: EXISTING's first)")
    sp.add_argument("--side", choices=["frontend", "backend", "both"], default="both",
                    help="new: which drivers to scaffold (default: both)")
    spec_arg(sp)
    sp.add_argument("--work", default="build/compile", metavar="DIR",
                    help="status: the compile work directory to read the last build from (default: build/compile)")
    sp.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                    help="status: text for people, one JSON object, or the markdown table of every OS "
                         "(what the tree holds, no machine-local results) (default: text)")
