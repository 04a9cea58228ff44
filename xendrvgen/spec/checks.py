"""Semantic checks over a built Spec: references, layouts, rings, state machines.

Each check reports into the Collector with the position of the element at
fault; none stops at its first finding.
"""
from __future__ import annotations

from . import drivernames
from xendrvgen.base.diagnostics import Collector, Mark
from .model import C_BASE_TYPES, Spec, did_you_mean, other_side


def check(spec: Spec, d: Collector) -> None:
    _size_limits(spec, d)
    _references(spec, d)
    _layouts(spec, d)
    _ring(spec, d)
    _machines(spec, d)
    _nodes(spec, d)
    _driver_nodes(spec, d)
    _negotiation(spec, d)
    _units(spec, d)


def _units(spec: Spec, d: Collector) -> None:
    """A unit belongs to a number: a uint32/uint64 node, an integer field."""
    for n in spec.nodes:
        if n.units and n.type not in ("uint32", "uint64"):
            d.error(f"units '{n.units}' on a {n.type} node: only uint32 and uint64 nodes count "
                    "something", n.mark, f"node '{n.name}' ({n.side})")
    for s in spec.structs:
        for f in s.fields:
            if f.units and (f.is_struct or f.padding):
                d.error(f"units '{f.units}' on a {'padding' if f.padding else 'struct'} field: only "
                        "integer fields count something", f.mark, f"struct '{s.name}' field '{f.name}'")


def _references(spec: Spec, d: Collector) -> None:
    features = {n.feature for n in spec.nodes if n.feature}
    for a in spec.abis:
        c = spec.constant(a.protocol)
        if c is None or c.group != "protocol":
            d.error(f"names protocol '{a.protocol}', which is not a protocol constant"
                    f"{did_you_mean(a.protocol, [c.name for c in spec.constants_in('protocol')])}",
                    a.mark, f"ABI '{a.name}'")
    for name, abi in spec.abi_variants:
        if abi not in spec.abi_names:
            d.error(f"ABI variant '{name}' refers to ABI '{abi}', which is not declared", None)
    _wire_values(spec, d)
    for c in spec.constants:
        ctx = f"constant '{c.name}'"
        if c.feature and c.feature not in features:
            d.error(f"feature '{c.feature}' is not the feature of any XenStore node"
                    f"{did_you_mean(c.feature, features)}", c.mark, ctx)
        if c.struct and spec.struct(c.struct) is None:
            d.error(f"refers to unknown struct '{c.struct}'", c.mark, ctx)
        if c.group == "protocol" and not isinstance(c.value, str):
            d.error("a protocol constant's value must be a string", c.mark, ctx)
        if c.group != "protocol" and not isinstance(c.value, int):
            d.error(f"a constant of group '{c.group}' must have an integer value", c.mark, ctx)
    for s in spec.structs:
        for op in s.operations:
            c = spec.constant(op)
            if c is None or c.group != "operation":
                d.error(f"operation '{op}' is not a BLKIF_OP_* constant"
                        f"{did_you_mean(op, [c.name for c in spec.constants_in('operation')])}",
                        s.mark, f"struct '{s.name}'")
    up = spec.upstream
    for kind in up.get("request_kinds", ()):
        st = spec.struct(kind)
        if st is None:
            d.error(f"request kind '{kind}' is not a struct{did_you_mean(kind, [s.name for s in spec.structs])}",
                    None, "upstream")
        elif not st.operations:
            d.error("a request kind needs 'operations': the opcodes that use this layout (the generated "
                    "translation switches on them)", st.mark, f"struct '{kind}'")
    if up.get("response") and spec.struct(up["response"]) is None:
        d.error(f"response '{up['response']}' is not a struct", None, "upstream")


def _wire_values(spec: Spec, d: Collector) -> None:
    """Opcodes and statuses travel in a response field: each fits that field's
    type, and no two share a value (a switch over them would not compile)."""
    resp = spec.struct(spec.upstream.get("response", ""))
    for group, field_name in (("operation", "operation"), ("status", "status")):
        f = next((f for f in resp.fields if f.name == field_name), None) if resp else None
        size = C_BASE_TYPES.get(f.base) if f else None
        if size is None:
            continue
        lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if f.base.startswith("int") \
            else (0, (1 << (8 * size)) - 1)
        seen: dict = {}
        for c in spec.constants_in(group):
            if not isinstance(c.value, int):
                continue
            if not lo <= c.value <= hi:
                d.error(f"value {c.value} does not fit the {f.base} field '{field_name}' of "
                        f"'{resp.name}' ({lo}..{hi})", c.mark, f"constant '{c.name}'")
            elif c.value in seen:
                d.error(f"value {c.value} is already {seen[c.value]}'s: each {group} needs its own",
                        c.mark, f"constant '{c.name}'")
            seen.setdefault(c.value, c.name)


def _layouts(spec: Spec, d: Collector) -> None:
    abis = spec.abi_names
    for s in spec.structs:
        ctx = f"struct '{s.name}'"
        for abi in abis:
            if abi not in s.layouts:
                d.error(f"has no layout for ABI '{abi}'", s.mark, ctx)
        for abi, lay in s.layouts.items():
            errors_before = len(d.errors())
            if abi not in abis:
                d.error(f"has a layout for undeclared ABI '{abi}'", lay.mark, ctx)
                continue
            if lay.size % lay.align:
                d.error(f"{abi}: size {lay.size} is not a multiple of its alignment {lay.align}", lay.mark, ctx)
            names = {f.name for f in s.fields}
            for fname in lay.offsets:
                if fname not in names:
                    d.error(f"{abi}: offset given for unknown field '{fname}'{did_you_mean(fname, names)}",
                            lay.mark, ctx)
            prev_end = 0
            for f in s.fields_on(abi):
                if f.name not in lay.offsets:
                    d.error(f"{abi}: no offset for field '{f.name}'", lay.mark, ctx)
                    continue
                off = lay.offsets[f.name]
                size = _field_size(spec, f, abi)
                if off < prev_end:
                    d.error(f"{abi}: field '{f.name}' at offset {off} overlaps the field before it "
                            f"(which ends at {prev_end})", lay.mark, ctx)
                if size is not None:
                    prev_end = off + size
                    if prev_end > lay.size:
                        d.error(f"{abi}: field '{f.name}' ends at {prev_end}, past the struct size {lay.size}",
                                lay.mark, ctx)
            for f in s.fields:
                if not f.present_on(abi) and f.name in lay.offsets:
                    d.error(f"{abi}: field '{f.name}' is not present on this ABI but has an offset",
                            lay.mark, ctx)
            if len(d.errors()) == errors_before:     # one finding per layout, not a cascade
                _natural_layout(spec, s, abi, lay, d, ctx)


def _round_up(n: int, align: int) -> int:
    return -(-n // align) * align


def _field_align(spec: Spec, f, abi: str) -> int | None:
    if f.is_struct:
        st = spec.struct(f.base)
        return st.layouts[abi].align if st and abi in st.layouts else None
    size = C_BASE_TYPES.get(f.base)
    # The i386 System V ABI aligns 8-byte integers to 4 inside structs.
    return None if size is None else min(size, 4) if abi == "x86_32" else size


def _natural_layout(spec: Spec, s, abi: str, lay, d: Collector, ctx: str) -> None:
    """The table agrees with how C lays out the fields on this ABI (the
    generated headers assert exactly that, so a gap or a wrong size would
    only show as a failed build)."""
    end, align = 0, 1
    if any(f.count_ref and not f.count for f in s.fields):
        return                           # an array length the reference checks reject
    for f in s.fields_on(abi):
        a, size, off = _field_align(spec, f, abi), _field_size(spec, f, abi), lay.offsets.get(f.name)
        if a is None or size is None or off is None:
            return                       # reported above, or by the reference checks
        if off != _round_up(end, a):
            d.error(f"{abi}: field '{f.name}' is at offset {off}, but C places it at {_round_up(end, a)} "
                    "after the fields before it (a missing, extra or resized field?)", lay.mark, ctx)
            return
        end, align = off + size, max(align, a)
    if lay.align != align or lay.size != _round_up(end, align):
        d.error(f"{abi}: size {lay.size} and alignment {lay.align}, but C makes the fields "
                f"{_round_up(end, align)} bytes aligned to {align}", lay.mark, ctx)


def _field_size(spec: Spec, f, abi: str) -> int | None:
    if f.is_struct:
        st = spec.struct(f.base)
        one = st.layouts[abi].size if st and abi in st.layouts else None
    else:
        one = C_BASE_TYPES.get(f.base)
    if one is None:
        return None
    return one * (f.count or 1)


def _ring(spec: Spec, d: Collector) -> None:
    r = spec.ring
    req, rsp = spec.struct(r.request), spec.struct(r.response)
    for what, st, name in (("request", req, r.request), ("response", rsp, r.response)):
        if st is None:
            d.error(f"the ring's {what} '{name}' is not a struct", r.mark, f"ring '{r.name}'")
    if req is None or rsp is None:
        return
    for abi in spec.abi_names:
        lay = r.layouts.get(abi)
        if lay is None:
            d.error(f"has no layout for ABI '{abi}'", r.mark, f"ring '{r.name}'")
            continue
        if abi not in req.layouts or abi not in rsp.layouts:
            continue
        entry = max(req.layouts[abi].size, rsp.layouts[abi].size,
                    *(k.layouts[abi].size for k in spec.request_kinds() if k and abi in k.layouts))
        if lay.entry_size != entry:
            d.error(f"{abi}: entry_size is {lay.entry_size}, but the largest request or response is {entry} bytes",
                    lay.mark, f"ring '{r.name}'")
        per_page = _pow2_floor((r.page_size - r.header_size) // lay.entry_size)
        if lay.entries_per_page != per_page:
            d.error(f"{abi}: entries_per_page is {lay.entries_per_page}, but a {r.page_size}-byte page "
                    f"holds {per_page} entries of {lay.entry_size} bytes after the {r.header_size}-byte header",
                    lay.mark, f"ring '{r.name}'")


def _pow2_floor(n: int) -> int:
    return 1 << (n.bit_length() - 1) if n > 0 else 0


def _machines(spec: Spec, d: Collector) -> None:
    names = [s.name for s in spec.states]
    values: dict = {}
    for s in spec.states:
        if s.value in values:
            d.error(f"state '{s.name}' has value {s.value}, already used by '{values[s.value]}'", s.mark)
        values[s.value] = s.name
    for side in ("frontend", "backend"):
        if spec.machine(side) is None:
            d.error(f"there is no state machine for the {side}", None)
    for m in spec.machines:
        ctx = f"state machine '{m.side}'"

        def known(state: str, mark) -> bool:
            if state not in names:
                d.error(f"unknown state '{state}'{did_you_mean(state, names)}", mark, ctx)
                return False
            return True

        known(m.initial, m.mark)
        for s in (*m.ignores, *m.ring_in_use):
            known(s, m.mark)
        events = [e.name for e in spec.events if e.side == m.side]
        for t in m.transitions:
            for s in (*t.sources, t.to, *(t.when or ())):
                known(s, t.mark)
            if t.event and t.event not in events:
                d.error(f"unknown {m.side} event '{t.event}'{did_you_mean(t.event, events)}", t.mark, ctx)
            for a in t.do:
                act = spec.action(a)
                if act is None:
                    d.error(f"unknown action '{a}'{did_you_mean(a, [x.name for x in spec.actions])}", t.mark, ctx)
                elif act.side != m.side:
                    d.error(f"action '{a}' belongs to the {act.side}, not the {m.side}", t.mark, ctx)
        # Every state of the other end is either handled or explicitly ignored.
        handled = m.handled_other_states()
        for s in names:
            if s in handled and s in m.ignores:
                d.error(f"the other end's state '{s}' is both handled and ignored", m.mark, ctx)
            elif s not in handled and s not in m.ignores:
                d.error(f"the other end's state '{s}' is neither handled by a transition nor listed in "
                        "'ignores'", m.mark, ctx)
        # One reaction per (own state, other end's state) and per (own state, event).
        seen: dict = {}
        for t in m.transitions:
            for own in t.sources:
                for other in t.when or ():
                    if (own, other) in seen:
                        d.error(f"two transitions react to the other end entering '{other}' while in "
                                f"'{own}' (the first at line {seen[own, other].line})", t.mark, ctx)
                    else:
                        seen[own, other] = t.mark
                if t.event:
                    if (own, "event", t.event) in seen:
                        d.error(f"two transitions react to event '{t.event}' while in '{own}' "
                                f"(the first at line {seen[own, 'event', t.event].line})", t.mark, ctx)
                    else:
                        seen[own, "event", t.event] = t.mark
        _ring_lifetime(spec, m, d, ctx)
        # Reachability and ways out.
        reach, todo = {m.initial}, [m.initial]
        while todo:
            cur = todo.pop()
            for t in m.transitions:
                if cur in t.sources and t.to not in reach:
                    reach.add(t.to)
                    todo.append(t.to)
        for s in m.states():
            if s not in names:
                continue  # already reported as unknown
            if s not in reach:
                d.error(f"state '{s}' cannot be reached from '{m.initial}'", m.mark, ctx)
            if not any(s in t.sources for t in m.transitions):
                d.error(f"state '{s}' is a dead end: no transition leaves it", m.mark, ctx)


def _ring_lifetime(spec: Spec, m, d: Collector, ctx: str) -> None:
    """The shared ring lives until neither side may use it.

    A side tears the ring down (an action marked `ring: release`) only in
    reaction to the other end entering a state outside the other end's
    `ring_in_use`, or on a forced event; and it leaves its own `ring_in_use`
    states only by a step that stops or releases its use of the ring, since
    the state it enters tells the other end that it may let go.
    """
    peer_side = other_side(m.side)
    peer = spec.machine(peer_side)
    in_use = peer.ring_in_use if peer is not None else ()
    for t in m.transitions:
        acts = [spec.action(a) for a in t.do]
        ends = [a for a in acts if a is not None and a.side == m.side and a.ring in ("stop", "release")]
        for a in (a for a in ends if a.ring == "release"):
            what = f"tears the ring down ('{a.name}')"
            if t.when:
                busy = [s for s in t.when if s in in_use]
                if busy:
                    d.error(f"{what} when the {peer_side} enters {_names(busy)}, where the {peer_side} may "
                            f"still use the ring (its ring_in_use: {_names(in_use)}); tear it down only once "
                            f"the {peer_side} is in a state outside ring_in_use, such as Closed", t.mark, ctx)
            elif t.event:
                ev = spec.event(m.side, t.event)
                if ev is not None and not ev.forced:
                    d.error(f"{what} on event '{t.event}', which is not forced: the {peer_side} may still use "
                            f"the ring; wait for it to leave {_names(in_use)}, or mark the event forced if it "
                            "leaves no choice", t.mark, ctx)
            else:
                d.error(f"{what} in a step of its own, while the {peer_side} may still use the ring; do it in "
                        f"reaction to the {peer_side} leaving {_names(in_use)}", t.mark, ctx)
        leaving = [s for s in t.sources if s in m.ring_in_use and t.to not in m.ring_in_use]
        if leaving and not ends and None not in acts:     # an unknown action is reported already
            d.error(f"goes from {_names(leaving)} to '{t.to}' without a step that stops or releases its use "
                    f"of the ring (an action marked ring: stop or release), yet '{t.to}' tells the {peer_side} "
                    "it may let go of the ring", t.mark, ctx)


def _names(states) -> str:
    return ", ".join(f"'{s}'" for s in states)


def _nodes(spec: Spec, d: Collector) -> None:
    notes = {n.number for n in spec.notes}
    states = {s.name for s in spec.states}
    for n in spec.nodes:
        ctx = f"node '{n.name}' ({n.side})"
        for num in n.notes:
            if num not in notes:
                d.error(f"refers to note {num}, which is not in xenstore_notes", n.mark, ctx)
        if n.published_in and n.published_in not in states:
            d.error(f"published_in names unknown state '{n.published_in}'{did_you_mean(n.published_in, states)}",
                    n.mark, ctx)
        if n.type == "enum" and not n.values:
            d.error("an enum node needs 'values'", n.mark, ctx)
        if n.type == "bool" and isinstance(n.default, int) and n.default not in (0, 1):
            d.error(f"a boolean node's default must be 0 or 1, not {n.default}", n.mark, ctx)
        for what in ("default", "min", "max"):
            v = getattr(n, what)
            if hasattr(v, "node"):
                side = n.side if what == "default" else None
                if not any(spec.node(s, v.node) for s in ((side,) if side else ("frontend", "backend"))):
                    d.error(f"{what} refers to unknown node '{v.node}'", n.mark, ctx)
            elif hasattr(v, "constant") and spec.constant(v.constant) is None:
                d.error(f"{what} refers to unknown constant '{v.constant}'", n.mark, ctx)


def _driver_nodes(spec: Spec, d: Collector) -> None:
    """The nodes the generated drivers spell by name must be in the spec."""
    for (side, name), (use, writer, readers) in drivernames.REQUIRED.items():
        n = spec.node(side, name)
        if n is not None:
            missing = [r for r in readers if r not in n.readers]
            if n.writer != writer or missing:
                d.error(f"the generated drivers rely on this node ({use}) as written by the {writer} and "
                        f"read by the {' and the '.join(readers)}; its writer and readers must say so", n.mark,
                        f"node '{name}' ({side})")
            continue
        names = [n.name for n in spec.nodes if n.side == side]
        hint = did_you_mean(name, names)
        near = next((n for n in spec.nodes if n.side == side and hint and n.name in hint), None)
        d.error(f"the generated drivers read or write the {side} node '{name}' ({use}) by that name, "
                f"and the spec has no such node{hint}: keep the name, or change the templates with it",
                (near or spec.nodes[0]).mark, f"node '{near.name}' ({side})" if near else "")
    names = {g.name for g in spec.negotiation}
    for name, use in drivernames.REQUIRED_NEGOTIATIONS.items():
        if name not in names:
            d.error(f"the generated drivers settle the negotiation '{name}' ({use}) by that name, and the "
                    f"spec has no such negotiation{did_you_mean(name, names)}: keep it, or change the "
                    "templates with it", spec.negotiation[0].mark if spec.negotiation else Mark(spec.file, 1, 1))
    for name, side in drivernames.REQUIRED_ACTIONS.items():
        a = spec.action(name)
        machine = next((m for m in spec.machines if m.side == side), None)
        if a is None or a.side != side:
            d.error(f"the generated {side} implements the action '{name}' and the spec declares no such "
                    f"{side} action: keep it, or change the templates with it",
                    a.mark if a else Mark(spec.file, 1, 1), f"action '{name}'" if a else "")
        elif machine and not any(name in t.do for t in machine.transitions):
            d.error(f"no {side} transition does this action, so its generated function would never run "
                    "(and an unused function does not compile with -Werror)", a.mark, f"action '{name}'")


def _negotiation(spec: Spec, d: Collector) -> None:
    for g in spec.negotiation:
        ctx = f"negotiation '{g.name}'"
        deciders = ("frontend", "backend") if g.decider == "both" else (g.decider,)
        for decider in deciders:
            offered_by = other_side(decider)
            if spec.node(offered_by, g.offer) is None:
                d.error(f"offer '{g.offer}' is not a {offered_by} node"
                        f"{did_you_mean(g.offer, [n.name for n in spec.nodes_of(offered_by)])}", g.mark, ctx)
            if g.accept and spec.node(decider, g.accept) is None:
                d.error(f"accept '{g.accept}' is not a {decider} node"
                        f"{did_you_mean(g.accept, [n.name for n in spec.nodes_of(decider)])}", g.mark, ctx)
        if g.rule == "min" and g.local_limit is None:
            d.error("a 'min' rule needs a local_limit", g.mark, ctx)
        if g.legacy:
            if spec.node(g.offered_by, g.legacy["offer"]) is None:
                d.error(f"legacy offer '{g.legacy['offer']}' is not a {g.offered_by} node", g.mark, ctx)
            if spec.node(g.decider, g.legacy["accept"]) is None:
                d.error(f"legacy accept '{g.legacy['accept']}' is not a {g.decider} node", g.mark, ctx)
        for w in g.with_nodes:
            if spec.node(g.offered_by, w) is None:
                d.error(f"'with' names '{w}', which is not a {g.offered_by} node", g.mark, ctx)


def _size_limits(spec: Spec, d: Collector) -> None:
    """Resource limits (limits.py) on what the generated files copy: the
    fields of a struct, the text of each description and note."""
    from xendrvgen.base import limits
    most_fields, most_chars = limits.get("struct-fields"), limits.get("description-chars")
    for s in spec.structs:
        if len(s.fields) > most_fields:
            d.error(limits.message("struct-fields", f"has {len(s.fields):,} fields, more than "
                                   f"{limits.most('struct-fields')}"), s.mark, f"struct '{s.name}'")
    todo = [spec]
    while todo:                       # every element of the model, nested ones too
        item = todo.pop()
        for v in vars(item).values():
            if isinstance(v, tuple):
                todo.extend(x for x in v if hasattr(x, "mark"))
        text = getattr(item, "description", None) or getattr(item, "text", None)
        if isinstance(text, str) and len(text) > most_chars:
            kind = type(item).__name__.lower().replace("xsnode", "node")
            name = getattr(item, "name", None) or getattr(item, "to", None) or getattr(item, "number", "")
            d.error(limits.message("description-chars", f"its {'text' if kind == 'note' else 'description'} "
                                   f"has {len(text):,} characters, more than {limits.most('description-chars')}"),
                    item.mark, f"{kind} '{name}'")
