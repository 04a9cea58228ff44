"""Element-level differences between two specs, and what they do to the wire.

`diff(old, new)` lists every added, removed or changed element (constants,
types, structs and their fields, per-ABI layouts, the ring, XenStore nodes,
states, state machines, negotiation rules, notes).  Each change says whether
it touches the wire ABI (what travels in a ring slot: struct layouts, field
types, constant values), and on which ABIs:

  breaking   an existing layout, field type or value changed or went away:
             peers built from the old spec misread the new one;
  extension  something new (an opcode, a struct, a flag bit) that old peers
             never see unless it is negotiated;
  none       no wire effect (XenStore nodes, state diagrams, descriptions).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from xendrvgen.base.diagnostics import Mark
from .model import Spec, Struct

WIRE_GROUPS = ("operation", "status", "vdisk_info", "discard_flag", "limit", "protocol")


@dataclass(frozen=True)
class Change:
    action: str                # added, removed, changed
    kind: str                  # constant, type, struct, field, layout, ring, node, state, ...
    name: str
    detail: str                # what changed, with both values
    wire: str                  # breaking, extension, none
    abis: tuple                # ABIs whose wire format it touches (empty: none)
    mark: Mark | None          # where in the new spec (or the old one, for removals)

    def text(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.action]
        where = f"  [{self.mark.file}:{self.mark.line}]" if self.mark and self.mark.line else ""
        return f"{sign} {self.kind} {self.name}: {self.detail}{where}"


def _plain(obj, skip=("mark",)):
    """A value with every Mark dropped, for comparing elements regardless of position."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return tuple((f.name, _plain(getattr(obj, f.name))) for f in dataclasses.fields(obj)
                     if f.name not in skip and not f.name.startswith("_"))
    if isinstance(obj, dict):
        return tuple(sorted((k, _plain(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(_plain(v) for v in obj)
    if isinstance(obj, frozenset):
        return tuple(sorted(obj))
    return obj


def _by_name(items, key=lambda x: x.name) -> dict:
    return {key(i): i for i in items}


class _Differ:
    def __init__(self, old: Spec, new: Spec):
        self.old, self.new = old, new
        self.abis = tuple(a for a in new.abi_names)
        self.out: list[Change] = []

    def add(self, *args) -> None:
        self.out.append(Change(*args))

    def run(self) -> list[Change]:
        self.constants()
        self.types()
        self.structs()
        self.ring()
        self.nodes()
        self.others()
        return self.out

    # --- wire -----------------------------------------------------------------
    def constants(self):
        o, n = _by_name(self.old.constants), _by_name(self.new.constants)
        for name, c in n.items():
            wire_group = c.group in WIRE_GROUPS
            if name not in o:
                self.add("added", "constant", name, f"{c.value!r} ({c.group})",
                         "extension" if wire_group else "none", self.abis if wire_group else (), c.mark)
                continue
            oc = o[name]
            if oc.value != c.value:
                self.add("changed", "constant", name, f"value {oc.value!r} -> {c.value!r}",
                         "breaking" if wire_group else "none", self.abis if wire_group else (), c.mark)
            if oc.group != c.group:
                self.add("changed", "constant", name, f"group {oc.group} -> {c.group}", "none", (), c.mark)
            if _plain(oc, ("mark", "value", "group")) != _plain(c, ("mark", "value", "group")):
                self.add("changed", "constant", name, "description or attributes", "none", (), c.mark)
        for name, c in o.items():
            if name not in n:
                wire_group = c.group in WIRE_GROUPS
                self.add("removed", "constant", name, f"was {c.value!r} ({c.group})",
                         "breaking" if wire_group else "none", self.abis if wire_group else (), c.mark)

    def types(self):
        o, n = _by_name(self.old.types), _by_name(self.new.types)
        for name, t in n.items():
            if name not in o:
                self.add("added", "type", name, t.c_type, "none", (), t.mark)
            elif o[name].c_type != t.c_type:
                self.add("changed", "type", name, f"{o[name].c_type} -> {t.c_type}", "breaking",
                         self.abis, t.mark)
        for name, t in o.items():
            if name not in n:
                self.add("removed", "type", name, f"was {t.c_type}", "none", (), t.mark)

    def structs(self):
        o, n = _by_name(self.old.structs), _by_name(self.new.structs)
        for name, s in n.items():
            if name not in o:
                self.add("added", "struct", name, f"{len(s.fields)} fields", "extension", self.abis, s.mark)
                continue
            self.struct(o[name], s)
        for name, s in o.items():
            if name not in n:
                self.add("removed", "struct", name, "", "breaking", self.abis, s.mark)

    def _on(self, f) -> tuple:
        """The ABIs a field is present on (a field of one ABI changes that one only)."""
        return tuple(a for a in self.abis if f.present_on(a))

    def struct(self, a: Struct, b: Struct):
        fo, fn = _by_name(a.fields), _by_name(b.fields)
        for name, f in fn.items():
            if name not in fo:
                self.add("added", "field", f"{b.name}.{name}", f.type, "breaking", self._on(f), f.mark)
                continue
            g = fo[name]
            what = []
            if (g.type, g.base, g.count) != (f.type, f.base, f.count):
                arr = lambda x: f"[{x.count}]" if x.count else ""
                what.append(f"type {g.type}{arr(g)} -> {f.type}{arr(f)}")
            if g.abis != f.abis:
                what.append(f"ABIs {sorted(g.abis) if g.abis else 'all'} -> {sorted(f.abis) if f.abis else 'all'}")
            if what:
                self.add("changed", "field", f"{b.name}.{name}", "; ".join(what), "breaking", self.abis, f.mark)
        for name, g in fo.items():
            if name not in fn:
                self.add("removed", "field", f"{b.name}.{name}", f"was {g.type}", "breaking", self._on(g), b.mark)
        for abi in self.abis:
            la, lb = a.layouts.get(abi), b.layouts.get(abi)
            if la is None or lb is None:
                continue
            diffs = []
            if la.size != lb.size:
                diffs.append(f"size {la.size} -> {lb.size}")
            if la.align != lb.align:
                diffs.append(f"align {la.align} -> {lb.align}")
            for fname in sorted(set(la.offsets) | set(lb.offsets), key=lambda x: lb.offsets.get(x, la.offsets.get(x, 0))):
                x, y = la.offsets.get(fname), lb.offsets.get(fname)
                if x != y and x is not None and y is not None:
                    diffs.append(f"offset of {fname} {x} -> {y}")
            if diffs:
                self.add("changed", "layout", f"{b.name} on {abi}", ", ".join(diffs), "breaking", (abi,), lb.mark)
        if _plain(a, ("mark", "fields", "layouts")) != _plain(b, ("mark", "fields", "layouts")):
            self.add("changed", "struct", b.name, "description, typedef or operations", "none", (), b.mark)

    def ring(self):
        a, b = self.old.ring, self.new.ring
        for abi in self.abis:
            la, lb = a.layouts.get(abi), b.layouts.get(abi)
            if la and lb and (la.entry_size, la.entries_per_page) != (lb.entry_size, lb.entries_per_page):
                self.add("changed", "ring", f"{b.name} on {abi}",
                         f"slot {la.entry_size} -> {lb.entry_size} bytes, "
                         f"{la.entries_per_page} -> {lb.entries_per_page} slots per page",
                         "breaking", (abi,), lb.mark)
        if (a.page_size, a.header_size, a.request, a.response) != (b.page_size, b.header_size, b.request, b.response):
            self.add("changed", "ring", b.name, "page size, header size, request or response", "breaking",
                     self.abis, b.mark)

    # --- the rest of the protocol ------------------------------------------------
    def nodes(self):
        o = {n.key: n for n in self.old.nodes}
        n_ = {n.key: n for n in self.new.nodes}
        for key, n in n_.items():
            label = f"{n.side}/{n.name}"
            if key not in o:
                self.add("added", "node", label, f"{n.type}, written by the {n.writer}", "none", (), n.mark)
                continue
            a = o[key]
            what = []
            for attr in ("type", "values", "default", "min", "max", "max_rule", "writer", "readers",
                         "published_in", "private", "deprecated", "notes", "per_queue", "feature"):
                x, y = getattr(a, attr), getattr(n, attr)
                if _plain(x) != _plain(y):
                    what.append(f"{attr} {_show(x)} -> {_show(y)}")
            if what:
                self.add("changed", "node", label, "; ".join(what), "none", (), n.mark)
            elif _plain(a) != _plain(n):
                self.add("changed", "node", label, "description or documentation", "none", (), n.mark)
        for key, a in o.items():
            if key not in n_:
                self.add("removed", "node", f"{a.side}/{a.name}", "", "none", (), a.mark)

    def others(self):
        for kind, attr, key in (("state", "states", lambda x: x.name), ("action", "actions", lambda x: x.name),
                                ("state machine", "machines", lambda x: x.side),
                                ("negotiation", "negotiation", lambda x: x.name),
                                ("note", "notes", lambda x: str(x.number)),
                                ("ABI", "abis", lambda x: x.name)):
            o, n = _by_name(getattr(self.old, attr), key), _by_name(getattr(self.new, attr), key)
            for name, item in n.items():
                if name not in o:
                    self.add("added", kind, name, "", "none", (), item.mark)
                elif _plain(o[name]) != _plain(item):
                    self.add("changed", kind, name, "", "none", (), item.mark)
            for name, item in o.items():
                if name not in n:
                    self.add("removed", kind, name, "", "none", (), item.mark)


def _show(v) -> str:
    if dataclasses.is_dataclass(v):
        return "/".join(str(x) for _, x in _plain(v))
    if isinstance(v, tuple):
        return "[" + ", ".join(map(str, v)) + "]"
    return repr(v) if isinstance(v, str) else str(v)


def diff(old: Spec, new: Spec) -> list[Change]:
    return _Differ(old, new).run()


def wire_verdict(changes: list[Change], abis) -> dict:
    """ABI name -> 'breaking' | 'extension' | 'unchanged'."""
    out = {}
    for abi in abis:
        kinds = {c.wire for c in changes if abi in c.abis}
        out[abi] = "breaking" if "breaking" in kinds else "extension" if "extension" in kinds else "unchanged"
    return out
