"""The resolved, immutable model of a spec.

`build(doc)` turns a schema-valid Document into a Spec of frozen dataclasses
with every cross-reference resolved.  Semantic problems (unknown types,
duplicates, dangling references) are collected with their positions;
`checks.py` adds the whole-spec checks (layouts, rings, state machines).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from xendrvgen.base.diagnostics import Collector, Mark
from xendrvgen.base.yamldoc import Document

C_BASE_TYPES = {
    "uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2,
    "uint32_t": 4, "int32_t": 4, "uint64_t": 8, "int64_t": 8, "char": 1,
}
SIDES = ("frontend", "backend")


def other_side(side: str) -> str:
    return "backend" if side == "frontend" else "frontend"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    hit = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{hit[0]}'?)" if hit else ""


@dataclass(frozen=True)
class Abi:
    name: str
    clang_target: str
    protocol: str            # constant name, e.g. XEN_IO_PROTO_ABI_X86_32
    mark: Mark


@dataclass(frozen=True)
class TypeDef:
    name: str
    c_type: str
    header: str | None
    description: str
    mark: Mark


@dataclass(frozen=True)
class Constant:
    name: str
    value: int | str
    group: str
    feature: str | None
    struct: str | None
    reserved: bool
    header: str | None
    description: str
    mark: Mark


@dataclass(frozen=True)
class Field:
    name: str
    type: str                # as spelled in the spec (typedef, base or struct name)
    base: str                # fixed-width base type, or the struct name
    is_struct: bool
    count: int | None        # array length, resolved
    count_ref: str | None    # constant naming the length, if any
    abis: frozenset | None   # None: present on every ABI
    padding: bool
    description: str
    mark: Mark
    units: str | None = None  # what one unit of the value is, where the protocol says (doctext.UNITS)

    def present_on(self, abi: str) -> bool:
        return self.abis is None or abi in self.abis


@dataclass(frozen=True)
class StructLayout:
    size: int
    align: int
    offsets: dict            # field name -> byte offset
    mark: Mark


@dataclass(frozen=True)
class Struct:
    name: str
    typedef: str | None
    description: str
    operations: tuple
    fields: tuple
    layouts: dict            # ABI name -> StructLayout
    mark: Mark

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def fields_on(self, abi: str) -> list[Field]:
        return [f for f in self.fields if f.present_on(abi)]


@dataclass(frozen=True)
class RingLayout:
    entry_size: int
    entries_per_page: int
    mark: Mark


@dataclass(frozen=True)
class Ring:
    name: str
    request: str
    response: str
    index_type: str
    page_size: int
    header_size: int
    layouts: dict
    mark: Mark


@dataclass(frozen=True)
class State:
    name: str
    value: int
    description: str
    mark: Mark

    @property
    def c_name(self) -> str:
        return f"XenbusState{self.name}"


@dataclass(frozen=True)
class Action:
    name: str
    side: str
    description: str
    mark: Mark
    ring: str | None = None  # 'stop' | 'release': the step ends this side's use of the ring
    reads_config: bool = False  # the step that reads what the toolstack wrote for the device


@dataclass(frozen=True)
class Event:
    """Something that happens to a driver other than a change of its peer's state."""
    name: str
    side: str
    description: str
    forced: bool             # the peer's use of the ring cannot be waited for
    mark: Mark


@dataclass(frozen=True)
class Transition:
    sources: tuple           # own states this applies in
    to: str
    when: tuple | None       # other end's states; None for a local step or an event
    kind: str
    do: tuple                # action names
    description: str
    mark: Mark
    event: str | None = None  # the event that triggers it, if any

    @property
    def local(self) -> bool:
        return self.when is None and self.event is None


@dataclass(frozen=True)
class StateMachine:
    side: str
    initial: str
    ignores: tuple
    transitions: tuple
    mark: Mark
    ring_in_use: tuple = ()  # own states in which this side may still use the shared ring

    def states(self) -> list[str]:
        seen = [self.initial]
        for t in self.transitions:
            for s in (*t.sources, t.to):
                if s not in seen:
                    seen.append(s)
        return seen

    def reaction(self, own: str, other: str) -> Transition | None:
        """What this side does when the other end enters `other` while we are in `own`."""
        for t in self.transitions:
            if t.when and other in t.when and own in t.sources:
                return t
        return None

    def on_event(self, own: str, event: str) -> Transition | None:
        """What this side does when `event` happens while we are in `own`."""
        for t in self.transitions:
            if t.event == event and own in t.sources:
                return t
        return None

    def events(self) -> list[str]:
        out: list[str] = []
        for t in self.transitions:
            if t.event and t.event not in out:
                out.append(t.event)
        return out

    def handled_other_states(self) -> list[str]:
        out: list[str] = []
        for t in self.transitions:
            for s in t.when or ():
                if s not in out:
                    out.append(s)
        return out


@dataclass(frozen=True)
class NodeRef:
    node: str


@dataclass(frozen=True)
class ConstRef:
    constant: str


@dataclass(frozen=True)
class XsNode:
    name: str
    side: str
    section: str
    type: str
    values: tuple
    default: int | str | NodeRef | None
    min: int | NodeRef | ConstRef | None
    max: int | NodeRef | ConstRef | None
    max_rule: str | None
    writer: str
    readers: tuple
    published_in: str | None
    private: bool
    deprecated: bool
    notes: tuple
    documented: bool
    feature: str | None
    per_queue: bool
    vendor: str | None
    extension: bool
    description: str
    mark: Mark
    units: str | None = None  # what one unit of the value is, where the protocol says (doctext.UNITS)

    @property
    def is_pattern(self) -> bool:
        return "%" in self.name

    @property
    def key(self) -> tuple[str, str]:
        return (self.side, self.name)


@dataclass(frozen=True)
class Negotiation:
    name: str
    description: str
    decider: str
    offer: str
    accept: str | None
    rule: str
    local_limit: int | None
    floor: int | None
    legacy: dict | None
    with_nodes: tuple
    mark: Mark

    @property
    def offered_by(self) -> str:
        return "backend" if self.decider in ("frontend", "both") else "frontend"


@dataclass(frozen=True)
class Note:
    number: int
    text: str
    mark: Mark


@dataclass(frozen=True)
class Spec:
    file: str
    sha256: str
    name: str
    title: str
    upstream: dict
    abis: tuple
    abi_variants: tuple      # (variant name, ABI name)
    types: tuple
    constants: tuple
    structs: tuple
    ring: Ring
    states: tuple
    actions: tuple
    machines: tuple
    negotiation: tuple
    notes: tuple
    nodes: tuple
    events: tuple = ()
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    # Lookups -------------------------------------------------------------
    def _by(self, kind: str, items) -> dict:
        if kind not in self._index:
            self._index[kind] = {i.name: i for i in items}
        return self._index[kind]

    def abi(self, name: str) -> Abi:
        return self._by("abi", self.abis)[name]

    @property
    def abi_names(self) -> list[str]:
        return [a.name for a in self.abis]

    def constant(self, name: str) -> Constant | None:
        return self._by("const", self.constants).get(name)

    def constants_in(self, group: str) -> list[Constant]:
        return [c for c in self.constants if c.group == group]

    def typedef(self, name: str) -> TypeDef | None:
        return self._by("type", self.types).get(name)

    def struct(self, name: str) -> Struct | None:
        return self._by("struct", self.structs).get(name)

    def state(self, name: str) -> State | None:
        return self._by("state", self.states).get(name)

    def action(self, name: str) -> Action | None:
        return self._by("action", self.actions).get(name)

    def event(self, side: str, name: str) -> Event | None:
        return next((e for e in self.events if e.side == side and e.name == name), None)

    def machine(self, side: str) -> StateMachine | None:
        return next((m for m in self.machines if m.side == side), None)

    def node(self, side: str, name: str) -> XsNode | None:
        if "nodes" not in self._index:
            self._index["nodes"] = {n.key: n for n in self.nodes}
        return self._index["nodes"].get((side, name))

    def retired(self, n: XsNode) -> bool:
        """Deprecated and named by no negotiation: kept for reference, spoken by no driver."""
        if not n.deprecated:
            return False
        return not any(n.name in (g.offer, g.accept, *(g.legacy or {}).values(), *g.with_nodes)
                       for g in self.negotiation)

    def nodes_of(self, side: str) -> list[XsNode]:
        return [n for n in self.nodes if n.side == side]

    def negotiated(self, name: str) -> Negotiation | None:
        return self._by("neg", self.negotiation).get(name)

    def request_kinds(self) -> list[Struct]:
        return [self.struct(n) for n in self.upstream["request_kinds"]]


# ----------------------------------------------------------------------------
class _Builder:
    def __init__(self, doc: Document, diags: Collector):
        self.doc, self.d, self.data = doc, diags, doc.data

    def m(self, *path) -> Mark:
        return self.doc.mark(path)

    def unique(self, key: str, what: str, name_of=lambda i: i["name"]) -> None:
        seen: dict = {}
        for i, item in enumerate(self.data.get(key, [])):
            name = name_of(item)
            if name in seen:
                self.d.error(f"duplicate {what} '{name if isinstance(name, str) else '/'.join(name)}' "
                             f"(first defined at line {seen[name].line})",
                             self.m(key, i, "name"), f"{what} '{name if isinstance(name, str) else name[1]}'")
            else:
                seen[name] = self.m(key, i)

    def build(self) -> Spec:
        for key, what in (("abis", "ABI"), ("types", "type"), ("constants", "constant"),
                          ("structs", "struct"), ("xenbus_states", "state"), ("actions", "action"),
                          ("negotiation", "negotiation"), ("abi_variants", "ABI variant")):
            self.unique(key, what)
        self.unique("xenstore_nodes", "node", lambda n: (n["side"], n["name"]))
        self.unique("state_machines", "state machine", lambda m: m["side"])
        self.unique("events", "event", lambda e: (e["side"], e["name"]))
        self.unique("xenstore_notes", "note", lambda n: str(n["number"]))

        D = self.data
        abis = tuple(Abi(a["name"], a["clang_target"], a["protocol"], self.m("abis", i))
                     for i, a in enumerate(D["abis"]))
        types = tuple(TypeDef(t["name"], t["c_type"], t.get("header"), t.get("description", ""),
                              self.m("types", i)) for i, t in enumerate(D["types"]))
        constants = tuple(Constant(c["name"], c["value"], c["group"], c.get("feature"),
                                   c.get("struct"), c.get("reserved", False), c.get("header"),
                                   c.get("description", ""), self.m("constants", i))
                          for i, c in enumerate(D["constants"]))
        const_by = {c.name: c for c in constants}
        type_by = {t.name: t for t in types}
        for i, t in enumerate(D["types"]):
            if t["c_type"] not in C_BASE_TYPES:
                self.d.error(f"type '{t['name']}' is based on unknown C type '{t['c_type']}'"
                             f"{did_you_mean(t['c_type'], C_BASE_TYPES)}",
                             self.m("types", i, "c_type"), f"type '{t['name']}'")
        struct_names = [s["name"] for s in D["structs"]]
        structs = tuple(self.struct(i, s, type_by, const_by, struct_names)
                        for i, s in enumerate(D["structs"]))
        r = D["ring"]
        ring = Ring(r["name"], r["request"], r["response"], r.get("index_type", "RING_IDX"),
                    r["page_size"], r["header_size"],
                    {abi: RingLayout(v["entry_size"], v["entries_per_page"], self.m("ring", "layout", abi))
                     for abi, v in r["layout"].items()}, self.m("ring"))
        states = tuple(State(s["name"], s["value"], s.get("description", ""), self.m("xenbus_states", i))
                       for i, s in enumerate(D["xenbus_states"]))
        actions = tuple(Action(a["name"], a["side"], a["description"], self.m("actions", i), a.get("ring"),
                               a.get("reads_config", False))
                        for i, a in enumerate(D["actions"]))
        events = tuple(Event(e["name"], e["side"], e["description"], e.get("forced", False), self.m("events", i))
                       for i, e in enumerate(D.get("events", ())))
        machines = tuple(self.machine(i, sm) for i, sm in enumerate(D["state_machines"]))
        negotiation = tuple(
            Negotiation(n["name"], n["description"], n["decider"], n["offer"], n.get("accept"),
                        n["rule"], n.get("local_limit"), n.get("floor"), n.get("legacy"),
                        tuple(n.get("with", ())), self.m("negotiation", i))
            for i, n in enumerate(D["negotiation"]))
        notes = tuple(Note(n["number"], n["text"], self.m("xenstore_notes", i))
                      for i, n in enumerate(D["xenstore_notes"]))
        nodes = tuple(self.node(i, n) for i, n in enumerate(D["xenstore_nodes"]))
        variants = tuple((v["name"], v["abi"]) for v in D.get("abi_variants", ()))
        return Spec(self.doc.file, self.doc.sha256, D["name"], D["title"], D.get("upstream", {}),
                    abis, variants, types, constants, structs, ring, states, actions, machines,
                    negotiation, notes, nodes, events)

    def struct(self, i, s, type_by, const_by, struct_names) -> Struct:
        ctx = f"struct '{s['name']}'"
        fields = []
        seen = set()
        for j, f in enumerate(s["fields"]):
            fm = self.m("structs", i, "fields", j)
            if f["name"] in seen:
                self.d.error(f"duplicate field '{f['name']}'", self.m("structs", i, "fields", j, "name"), ctx)
            seen.add(f["name"])
            t = f["type"]
            is_struct = False
            if t in C_BASE_TYPES:
                base = t
            elif t in type_by:
                base = type_by[t].c_type
            elif t in struct_names[:i]:
                base, is_struct = t, True
            elif t in struct_names:
                self.d.error(f"field '{f['name']}' uses struct '{t}' before it is defined",
                             self.m("structs", i, "fields", j, "type"), ctx)
                base, is_struct = t, True
            else:
                known = list(C_BASE_TYPES) + list(type_by) + struct_names
                self.d.error(f"field '{f['name']}' uses unknown type '{t}'{did_you_mean(t, known)}",
                             self.m("structs", i, "fields", j, "type"), ctx)
                base = t
            count, ref = None, None
            if "array" in f:
                a = f["array"]
                if isinstance(a, int):
                    count = a
                else:
                    ref = a
                    c = const_by.get(a)
                    if c is None:
                        self.d.error(f"field '{f['name']}' has array length '{a}', which is not a constant"
                                     f"{did_you_mean(a, const_by)}",
                                     self.m("structs", i, "fields", j, "array"), ctx)
                    elif not isinstance(c.value, int) or c.value < 1:
                        self.d.error(f"field '{f['name']}' has array length '{a}', whose value {c.value!r} "
                                     "is not a positive integer", self.m("structs", i, "fields", j, "array"), ctx)
                    else:
                        count = c.value
            abis = frozenset(f["abis"]) if "abis" in f else None
            fields.append(Field(f["name"], t, base, is_struct, count, ref, abis,
                                f.get("padding", False), f.get("description", ""), fm, f.get("units")))
        layouts = {abi: StructLayout(v["size"], v["align"], dict(v["offsets"]),
                                     self.m("structs", i, "layout", abi))
                   for abi, v in s["layout"].items()}
        return Struct(s["name"], s.get("typedef"), s.get("description", ""),
                      tuple(s.get("operations", ())), tuple(fields), layouts, self.m("structs", i))

    def machine(self, i, sm) -> StateMachine:
        def when(w):
            return None if w == "local" or isinstance(w, dict) else tuple(w)
        ts = tuple(Transition(tuple(t["from"]), t["to"], when(t["when"]),
                              t["kind"], tuple(t["do"]), t.get("description", ""),
                              self.m("state_machines", i, "transitions", j),
                              t["when"].get("event") if isinstance(t["when"], dict) else None)
                   for j, t in enumerate(sm["transitions"]))
        return StateMachine(sm["side"], sm["initial"], tuple(sm.get("ignores", ())), ts,
                            self.m("state_machines", i), tuple(sm.get("ring_in_use", ())))

    def node(self, i, n) -> XsNode:
        def ref(v):
            if isinstance(v, dict):
                return NodeRef(v["node"]) if "node" in v else ConstRef(v["constant"])
            return v
        return XsNode(n["name"], n["side"], n["section"], n["type"], tuple(n.get("values", ())),
                      ref(n.get("default")), ref(n.get("min")), ref(n.get("max")), n.get("max_rule"),
                      n["writer"], tuple(n["readers"]), n.get("published_in"),
                      n.get("private", False), n.get("deprecated", False), tuple(n.get("notes", ())),
                      n.get("documented", True), n.get("feature"), n.get("per_queue", False),
                      n.get("vendor"), n.get("extension", False), n["description"],
                      self.m("xenstore_nodes", i), n.get("units"))


def build(doc: Document, diags: Collector) -> Spec:
    return _Builder(doc, diags).build()
