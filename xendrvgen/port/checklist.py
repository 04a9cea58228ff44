"""docs/ports/<os>.md: the kernel primitives a new port's kit must map, from the plan.

Every item comes from xendrvgen's driver plan: which XenStore nodes are read
and written in which action, what is settled where, which states the side
switches to, where grants, event channels, DMA and the disk come in, which
fatal errors the plan raises and the hooks left to fill.  Nothing here is a
hand list of nodes or actions: a spec change changes the checklist.
"""
from __future__ import annotations

from xendrvgen.plan.records import Plan


def _names(nodes) -> str:
    return ", ".join(f"`{n.name}`" for n in nodes)


def _by_action(nodes) -> list[tuple[str, list]]:
    out: dict = {}
    for n in nodes:
        out.setdefault(n.action or "(none)", []).append(n)
    return sorted(out.items())


def _switched_to(M) -> list[str]:
    seen: list = []
    rows = [r for _, row in M.table for r in row] + [r for e in M.events for r in e.reactions]
    steps = [st for r in rows if r is not None for st in getattr(r, "steps", ())] + list(M.probe)
    for st in steps:
        if st.to not in seen:
            seen.append(st.to)
    return seen


def items(plan: Plan, side: str) -> list[tuple[str, str, list[str]]]:
    """(primitive, what the kit must give, [where the plan uses it]) of one side."""
    sp = plan.side(side)
    M, T, R = sp.machine, plan.transport, plan.requests
    acts = [a for a, _ in M.actions]
    out = []
    out.append(("XenStore read", "read one node of a directory into a buffer; absent is not an error "
                "(the kit's `f.xs_read`)",
                [f"{a}: {_names(ns)}" for a, ns in _by_action(sp.reads)]))
    out.append(("XenStore write", "write one node (the kit's `f.xs_write`)",
                [f"{a}: {_names(ns)}" for a, ns in _by_action(sp.writes)]))
    pub = sorted({n.action for n in sp.writes if n.action})
    out.append(("XenStore transaction", "start and end a transaction, retried when the store says "
                "EAGAIN (or write in order when the OS offers none, with the state switch last)",
                [f"{a}: around its writes" for a in pub]))
    out.append(("XenStore watch", "be told when the other end's `state` changes (and, for the hooks "
                "that watch nodes, those)",
                [f"reaction table: {len(M.table)} states of the other end",
                 *[f"hook {h.id}: {h.what}" for h in sp.hooks if "watch" in h.what.lower()]]))
    out.append(("state switch", "write our own `state` node",
                [f"to {s}" for s in _switched_to(M)]))
    if side == "frontend":
        out.append(("grant alloc", "grant the backend access to a page of ours (read-only or writable)",
                    [f"ring pages: `{T.ring_ref}` / `{T.ring_ref_pattern}` (publish_transport)",
                     *[f"data of {o.constant} ({o.kind})" for o in R.ops if o.data],
                     f"indirect pages: up to {R.max_indirect_pages.name} a request"]))
        out.append(("grant end", "take a grant back; one still mapped by the backend is a fault",
                    [a for a in acts if "release" in a or "stop" in a] + ["each finished request (not persistent)"]))
        out.append(("event channel bind", "allocate an unbound port for the backend and bind a handler",
                    [f"`{T.event_channel}` (publish_transport)"]))
    else:
        out.append(("grant map", "map the frontend's grants (ring pages, data, indirect pages)",
                    [f"ring: `{T.ring_ref}` / `{T.ring_ref_pattern}`",
                     *[f"{o.constant}: check gref_mapped" for o in R.ops
                       if any(c.id == "gref_mapped" for c in o.checks)]]))
        out.append(("grant unmap", "unmap them again", [a for a in acts if "release" in a or "stop" in a]))
        out.append(("event channel bind", "bind to the frontend's port (interdomain)",
                    [f"`{T.event_channel}` read by the backend"]))
    out.append(("event channel notify", "kick the other end after pushing requests or responses",
                ["RING_PUSH_*_AND_CHECK_NOTIFY says when"]))
    out.append(("DMA", "turn a buffer into pages (or grants) a request can carry",
                [f"{o.constant}" for o in R.ops if o.data]))
    out.append(("disk registration", "attach (and detach) the disk the kernel sees" if side == "frontend"
                else "open the backing store and find its size",
                [a for a in acts if "disk" in a or "backing" in a]))
    fails = []
    req = [n for n in sp.reads if n.need == "required"]
    if req:
        fails.append(f"fail_missing: {_names(req)}")
    rej = [n for n in sp.reads if n.on_range == "reject"]
    if rej:
        fails.append(f"fail_range: {_names(rej)}")
    one = [n for n in sp.reads if n.need == "one_of"]
    if one:
        fails.append(f"fail_neither: {_names(one)}")
    if any(d.how == "accepted" and d.peer_legacy for d in sp.decisions):
        fails.append("fail_disagree, fail_offered: " + ", ".join(
            d.negotiation for d in sp.decisions if d.how == "accepted" and d.peer_legacy))
    out.append(("logging and fatal errors", "report a fatal error on the device (the kit's `f.fail_*`) "
                "and print the rest", fails))
    out.append(("actions", "one function per action of the spec, called by the reaction table",
                [f"{a}: {d}" for a, d in M.actions]))
    return out


def render(plan: Plan, os_name: str, title: str, like: str, sides: list[str], files: list[str]) -> str:
    lines = [f"# Porting checklist: {title} (`{os_name}`)", "",
             f"Scaffolded by `xendrvgen port new {os_name} --like {like}` from the driver plan of "
             f"`{plan.spec_file}`. The kit still spells {like}'s kernel API: map each primitive below to "
             f"{title}'s, in `templates/{os_name}/`, declare what you use in `contracts/{os_name}/include/` "
             f"and check the list off. `xendrvgen port status {os_name}` shows what is left, from the "
             "rendered code; `docs/porting.md` walks through the whole port.", "",
             "## Files of the port", ""]
    lines += [f"- `{f}`" for f in files]
    lines += ["", "## Steps", "",
              f"- [ ] `xendrvgen generate --os {os_name}` renders the scaffold as it stands",
              f"- [ ] `xendrvgen compile --os {os_name}` builds it (against {like}'s contract, borrowed)",
              f"- [ ] the profile `specs/os/{os_name}.yaml`: types, header guards and paths, style",
              f"- [ ] each primitive below spelled in {title}'s API",
              f"- [ ] `contracts/{os_name}/include/` declares exactly that API; `BORROW = None` in "
              f"`xendrvgen/compile/{os_name}.py`",
              f"- [ ] `xendrvgen contract verify --os {os_name} --tree DIR` against a real tree",
              f"- [ ] `generated/{os_name}/` committed; tests beside the other OSes'"]
    for side in sides:
        lines += ["", f"## {side.capitalize()}: kernel primitives", ""]
        for name, what, where in items(plan, side):
            lines.append(f"- [ ] **{name}**: {what}")
            lines += [f"  - {w}" for w in where]
        lines += ["", f"## {side.capitalize()}: hooks", ""]
        lines += [f"- [ ] `{h.id}` ({h.action or 'any action'}): {h.what} Until then: {h.default}"
                  for h in plan.side(side).hooks]
    return "\n".join(lines) + "\n"
