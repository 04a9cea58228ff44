"""The resolved, immutable model of a spec.

resolve.build(doc) turns a schema-valid Document into a Spec of these frozen
dataclasses with every cross-reference resolved.  Semantic problems (unknown types,
duplicates, dangling references) are collected with their positions;
`checks.py` adds the whole-spec checks (layouts, rings, state machines).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from xendrvgen.base.diagnostics import Mark

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
