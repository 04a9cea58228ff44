"""`xendrvgen model-check`: explore every interleaving of the two sides' state diagrams.

    xendrvgen model-check [--spec FILE] [--format text|json] [--limit STATES]

Exit 0 when nothing is found, 1 with a violation (each printed with the
shortest trace that reaches it) or when the state limit cut the search
short, 2 on bad input.
"""
from __future__ import annotations

import json


def register(add, spec_arg, csv) -> None:
    sp = add("model-check", cmd_model_check,
             "explore every interleaving of the frontend's and the backend's state diagrams: deadlocks, "
             "reads before writes, teardowns while the ring is in use")
    spec_arg(sp)
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--limit", type=int, default=200_000, metavar="STATES",
                    help="stop exploring after this many states (default: 200000)")


def cmd_model_check(args) -> int:
    from xendrvgen.plan import modelcheck
    from xendrvgen import plan as plan_mod
    from xendrvgen import spec as spec_mod
    res = modelcheck.check(plan_mod.build(spec_mod.load(args.spec)), limit=args.limit)
    if args.format == "json":
        print(json.dumps(res.as_dict(), indent=2))
    else:
        print(modelcheck.render_text(res))
    return 0 if res.ok else 1
