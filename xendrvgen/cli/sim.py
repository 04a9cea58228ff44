"""`xendrvgen sim`: run our frontend and backend against each other and against peers.

    xendrvgen sim [--front OS|PERSONALITY] [--back OS|PERSONALITY] [--scenario NAME|all]
                  [--peers] [--seeds LIST] [--format text|json] [--list]

--front and --back name an OS (our driver, built with that OS's generated
headers and profile) or a peer personality.  The driver logic the OSes share
(common/_driver.j2) is the same for every OS; what the OS changes is the
request layout and types of its headers (Linux's union of request kinds,
the BSDs' and EDK2's separate structs), which meet on the ring.  Exit 0 all
passed, 1 a scenario failed, 2 bad input or a missing tool, 3 internal.
"""
from __future__ import annotations

import json
import sys
import time

from xendrvgen.sim import personalities
from xendrvgen.sim.pairs import BACKEND_OSES, FRONT_OSES, pairs_for


def register(add, spec_arg, csv) -> None:
    sp = add("sim", cmd_sim,
             "run our generated frontend and backend logic against each other and against peer personalities "
             "(Linux-, FreeBSD-style backends; EDK2-style, old, 32-bit and 4K-sector frontends) over an in-memory "
             "XenStore, grant table and the real ring.h ring, serving a disk image, with data checked byte for byte")
    spec_arg(sp)
    sp.add_argument("--front", default="linux", metavar="OS|PERSONALITY",
                    help=f"our frontend built as OS ({', '.join(FRONT_OSES)}; the shared logic is the same, the "
                         f"headers' request layout differs), or a peer: {', '.join(personalities.names('frontend'))} "
                         "(default: linux)")
    sp.add_argument("--back", default="linux", metavar="OS|PERSONALITY",
                    help=f"our backend built as OS ({', '.join(BACKEND_OSES)}), or a peer: "
                         f"{', '.join(personalities.names('backend'))} (default: linux)")
    sp.add_argument("--scenario", default="all", metavar="NAME|all", help="one scenario, or all (default)")
    sp.add_argument("--peers", action="store_true",
                    help="also run our frontend against every backend personality and our backend against every "
                         "frontend personality")
    sp.add_argument("--seeds", type=csv, default=["1"], metavar="LIST",
                    help="seeds of the delivery order of watch events and notifications (default: 1)")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--list", action="store_true", help="list the scenarios and personalities")


def _bad(msg: str) -> int:
    print(f"xendrvgen sim: {msg}", file=sys.stderr)
    return 2


def cmd_sim(args) -> int:
    from xendrvgen import plan as plan_mod
    from xendrvgen import spec as spec_mod
    from xendrvgen.sim import build, run
    from xendrvgen.sim.scenarios import BY_SCENARIO, SCENARIOS
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:24} {s.what}")
        print()
        for p in personalities.PERSONALITIES:
            print(f"{p.name:24} ({p.side}) {p.what}")
            for b in p.behaviour:
                print(f"{'':26}- {b}")
        return 0
    pairs = pairs_for(args.front, args.back, args.peers)
    if isinstance(pairs, str):
        return _bad(pairs)
    if args.scenario != "all" and args.scenario not in BY_SCENARIO:
        return _bad(f"unknown scenario '{args.scenario}'; known: all, {', '.join(BY_SCENARIO)}")
    try:
        seeds = [int(s) for s in args.seeds]
    except ValueError:
        return _bad(f"--seeds takes numbers: {','.join(args.seeds)}")
    chosen = SCENARIOS if args.scenario == "all" else (BY_SCENARIO[args.scenario],)
    spec = spec_mod.load(args.spec)
    try:
        built = build.build(spec, plan_mod.build(spec), pairs[0].front_os, pairs[0].back_os)
    except build.SimToolMissing as exc:
        return _bad(str(exc))
    results = []
    t0 = time.perf_counter()
    for pair in pairs:
        for sc in chosen:
            if not sc.applies(pair):
                continue
            for seed in seeds:
                results.append(run.run_one(built.exe, sc, pair, seed))
    wall = time.perf_counter() - t0
    failed = [r for r in results if not r.ok]
    if args.format == "json":
        print(json.dumps({"ok": not failed, "build_seconds": round(built.seconds, 3), "cached": built.cached,
                          "seconds": round(wall, 3), "results": [r.as_dict() for r in results]}, indent=2))
    else:
        for r in results:
            print(f"{'PASS' if r.ok else 'FAIL'} {r.scenario:24} {r.pair:36} seed {r.seed}  "
                  f"{r.seconds * 1000:6.1f} ms  {r.requests} requests")
        for r in failed:
            print()
            print(run.render_failure(r))
        print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed in {wall:.2f} s "
              f"(build {'cached' if built.cached else f'{built.seconds:.2f} s'})")
    return 1 if failed else 0
