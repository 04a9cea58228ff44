"""`xendrvgen plan`: show the OS-agnostic driver plan every OS's templates receive.

    xendrvgen plan [--spec FILE] [--side frontend|backend] [--format text|json]

The JSON form is exactly `xendrvgen.plan.build(spec).as_dict()`; the text
form is a summary for people: nodes read and written per action, the
negotiated values, the reaction table, the request checks and the hooks.
"""
from __future__ import annotations

import json


def register(add, spec_arg, csv) -> None:
    sp = add("plan", cmd_plan, "show the driver plan (negotiation, states, checks, hooks) derived from the spec")
    spec_arg(sp)
    sp.add_argument("--side", choices=["frontend", "backend"], help="only this side")
    sp.add_argument("--format", choices=["text", "json"], default="text")


def cmd_plan(args) -> int:
    from xendrvgen import plan as plan_mod
    from xendrvgen import spec as spec_mod
    p = plan_mod.build(spec_mod.load(args.spec))
    if args.format == "json":
        d = p.as_dict()
        if args.side:
            d = {k: v for k, v in d.items() if k != ("backend" if args.side == "frontend" else "frontend")}
        print(json.dumps(d, indent=2))
        return 0
    print(render_text(p, args.side))
    return 0


def render_text(p, only: str | None = None) -> str:
    out: list[str] = []
    for side in ("frontend", "backend"):
        if only and side != only:
            continue
        sp = p.side(side)
        out.append(f"== {side}")
        for a in sp.actions:
            reads = [n.name for n in sp.reads_in(a)]
            writes = [n.name for n in sp.writes_in(a)]
            decisions = [d.negotiation for d in sp.decisions_in(a)]
            if reads or writes or decisions:
                out.append(f"  {a}:")
                if reads:
                    out.append(f"    reads    {', '.join(reads)}")
                if decisions:
                    out.append(f"    settles  {', '.join(decisions)}")
                if writes:
                    out.append(f"    writes   {', '.join(writes)}")
        out.append("  negotiation:")
        for d in sp.decisions:
            out.append(f"    {d.negotiation:18} {d.how:10} {d.formula}")
        m = sp.machine
        out.append(f"  reactions (rows: other end's state; columns: {', '.join(m.own_states)}):")
        for other, row in m.table:
            if other in m.ignores:
                out.append(f"    {other:14} ignored")
                continue
            cells = []
            for r in row:
                if r.steps:
                    cells.append(f"{r.own}->" + "->".join(s.to for s in r.steps))
            out.append(f"    {other:14} {'; '.join(cells) or '-'}")
        if m.events:
            out.append("  events:")
        for e in m.events:
            cells = [f"{r.own}->" + "->".join(s.to for s in r.steps)
                     + f" [{', '.join(a for s in r.steps for a in s.actions) or 'nothing to do'}]"
                     for r in e.reactions if r.steps]
            out.append(f"    {e.name:14} {'; '.join(cells) or '-'}")
        if sp.hooks:
            out.append("  hooks:")
            for h in sp.hooks:
                out.append(f"    {h.id}: {h.what}")
    if not only or only == "backend":
        out.append("== request checks (backend)")
        for o in p.requests.ops:
            out.append(f"  {o.constant} ({o.kind}): " + ", ".join(c.id for c in o.checks))
    return "\n".join(out)
