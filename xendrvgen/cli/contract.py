"""`xendrvgen contract list|verify`: the OS API contract headers, and their
comparison with a real OS source tree (contract/ does the work)."""
from __future__ import annotations

import sys

from xendrvgen.base.diagnostics import EXIT_BAD_INPUT, EXIT_MISMATCH, EXIT_OK
from xendrvgen.contract import KNOWN, ContractError, manifest, verify


def cmd_contract(args) -> int:
    if args.action == "list":
        for o in args.os or list(KNOWN):
            man = manifest(o)
            for h in man["headers"]:
                print(f"{o}\tcontracts/{o}/include/{h['path']}\t{h['tree']}")
        return EXIT_OK
    if not args.tree:
        print("xendrvgen contract verify: --tree DIR is required (the top of a source checkout of "
              f"{', '.join(args.os or KNOWN)})", file=sys.stderr)
        return EXIT_BAD_INPUT
    failed = False
    for o in args.os or []:
        try:
            rep = verify(o, args.tree)
        except ContractError as exc:
            print(f"xendrvgen contract verify: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(rep.render(args.format))
        sys.stdout.flush()
        from xendrvgen.port import record
        record.contract_verified(o, rep)
        failed |= rep.failed
    return EXIT_MISMATCH if failed else EXIT_OK


def register(add, spec_arg, csv) -> None:
    sp = add("contract", cmd_contract,
             "list the OS API contract headers, or verify them against a real OS source tree")
    sp.add_argument("action", choices=["verify", "list"])
    sp.add_argument("--os", type=csv, metavar="OS", help=f"one of {', '.join(KNOWN)}")
    sp.add_argument("--tree", metavar="DIR", help="top of the OS source checkout to compare with")
    sp.add_argument("--format", choices=["text", "json"], default="text")
