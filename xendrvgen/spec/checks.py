"""Semantic checks over a built Spec: references, layouts, rings, state machines.

Each check reports into the Collector with the position of the element at
fault; none stops at its first finding.  The layout and ring checks are in
layoutchecks.py, the state machine checks in machinechecks.py; the rest
(references, wire values, nodes, negotiations, units, sizes) is here.
"""
from __future__ import annotations

from . import drivernames
from xendrvgen.base.diagnostics import Collector, Mark
from .layoutchecks import check_layouts, check_ring
from .machinechecks import check_machines
from .model import C_BASE_TYPES, Spec, did_you_mean, other_side


def check(spec: Spec, d: Collector) -> None:
    _size_limits(spec, d)
    _references(spec, d)
    check_layouts(spec, d)
    check_ring(spec, d)
    check_machines(spec, d)
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
