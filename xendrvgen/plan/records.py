"""What a driver plan hands to templates: frozen dataclasses built by
`plan.build()` and read by every OS's templates (docs/plan.md describes them)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, is_dataclass
from typing import Any


def ident(name: str) -> str:
    """A node name as a C identifier fragment (ring-ref%u -> ring_ref_n)."""
    s = name.replace("%u", "_n")
    s = re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_")
    return re.sub(r"_+", "_", s).lower()


# ---------------------------------------------------------------------------
# Data handed to templates
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """A bound or default: a literal, a protocol constant, a node, or a negotiated value."""
    kind: str                  # 'int' | 'const' | 'node' | 'negotiated' | 'symbol' | 'str'
    value: int | str | None    # the number or string when known
    name: str | None = None    # constant / node / negotiation / symbol name
    side: str | None = None    # for 'node': the directory the node lives in

    @property
    def field(self) -> str | None:
        """For a node limit: the storage name of that node (as NodeUse.field)."""
        if self.kind != "node":
            return None
        return f"{'fe' if self.side == 'frontend' else 'be'}_{ident(self.name)}"

    def describe(self) -> str:
        if self.kind == "int":
            return str(self.value)
        if self.kind == "str":
            return json.dumps(self.value)
        if self.kind == "const":
            return f"{self.name} ({self.value})"
        if self.kind == "node":
            return f"{self.side} node {self.name}"
        if self.kind == "negotiated":
            return f"negotiated {self.name}"
        return str(self.name)


@dataclass(frozen=True)
class NodeUse:
    """One XenStore node as one driver side reads or writes it."""
    name: str                  # spec name, e.g. 'feature-max-indirect-segments' or 'ring-ref%u'
    ident: str                 # identifier form: 'feature_max_indirect_segments', 'ring_ref_n'
    field: str                 # unique storage name across both sides: 'be_feature_persistent'
    node_side: str             # directory the node lives in (spec 'side')
    dir: str                   # 'own' or 'otherend', relative to the driver using it
    type: str                  # bool | uint32 | uint64 | string | enum | bitmap
    default: Limit | None      # None: required (reading fails without it)
    min: Limit | None
    max: Limit | None
    on_range: str              # 'clamp' or 'reject' (see module docstring)
    values: tuple              # allowed strings of an enum
    bits: tuple                # constant names of the known bits of a bitmap
    shape: str                 # 'scalar' | 'per_queue' (also under queue-%u) | 'pattern' (name has %u)
    action: str | None         # action in which it is read / written
    published_in: str | None
    writer: str
    feature: str | None
    negotiation: str | None    # negotiation it takes part in
    role: str | None           # offer | accept | legacy_offer | legacy_accept | with | local_offer
    source: str                # writes: negotiated | offer | local_offer | legacy | transport | device | extension | hook
                               # reads:  negotiation | property | config | transport | extension | info
    condition: str | None      # when it is written/read: 'multi_page' | 'single_page' | 'multi_queue' | 'differs_from_default'
    quantity: str | None       # device writes: which property of the backing store (see DEVICE_QUANTITIES)
    extension: bool
    vendor: str | None
    deprecated: bool
    private: bool
    description: str
    where: str                 # spec file:line, for provenance comments
    macro: str                 # C macro of the node's name in the generated node header
    queue_macro: str | None    # macro of its queue-%u/... path format, for per-queue nodes
    need: str                  # reads: 'required' (fail without it), 'optional' (absent: default,
                               # or empty/0), 'one_of' (it or `alternative` must exist)
    alternative: str | None    # the node that may stand in for this one
    counterpart: str | None    # field of the other end's node of the same name we read (extensions)
    value_macros: tuple        # enum nodes: the macro of each allowed value
    value: tuple               # writes: where the value comes from, one of
                               #   ('param', name)                 our tunable
                               #   ('pages_of', field)             1 << (the order we publish in field)
                               #   ('negotiated', negotiation)     the settled value
                               #   ('pages_of_negotiated', neg)    1 << the settled order
                               #   ('quantity', name)              a property of the device / ring
                               #   ('transport',)                  rings, event channels, protocol
                               #   ('default',)                    hook: the spec default

    @property
    def required(self) -> bool:
        return self.need == "required"


@dataclass(frozen=True)
class Legacy:
    offer: str                 # e.g. max-ring-pages
    accept: str                # e.g. num-ring-pages
    unit: str                  # 'pages': the value is 1 << (the negotiated order)
    offer_default: int


@dataclass(frozen=True)
class NegotiationPlan:
    name: str
    description: str
    rule: str                  # min | both | offered
    decider: str               # frontend | backend | both
    offered_by: str            # side publishing `offer`
    offer: str
    offer_default: int
    accept: str | None
    accept_default: int | None
    local_limit: int | None    # our own maximum (a 'min' rule), a module/tunable parameter
    local_offer: int | None    # our own offer for both/offered rules where we publish the offer
    floor: int | None
    hard_max: Limit | None     # what the protocol itself allows
    legacy: Legacy | None
    with_nodes: tuple
    feature: str | None
    param: str                 # OS-neutral name of the tunable: 'max_ring_page_order', 'feature_persistent'
    write_accept_when: str | None   # 'differs_from_default' for min-rule accept nodes
    formula: str               # human text, for comments and docs
    where: str


@dataclass(frozen=True)
class Step:
    to: str
    actions: tuple
    kind: str                  # startup | skip | close | reconnect
    local: bool                # taken on our own, not in reaction to the other end
    description: str
    where: str


@dataclass(frozen=True)
class Reaction:
    own: str
    other: str
    steps: tuple               # Step...; empty: nothing to do
    why: str                   # 'transition' | 'ignored' (spec ignores it) | 'no transition from this state'


def group_reactions(reactions) -> list:
    """[(own states, steps)] of the reactions that do something, those with the same steps together."""
    out: list = []
    for r in reactions:
        if not r.steps:
            continue
        same = next((g for g in out if g[1] == r.steps), None)
        if same:
            same[0].append(r.own)
        else:
            out.append(([r.own], r.steps))
    return [(tuple(owns), steps) for owns, steps in out]


@dataclass(frozen=True)
class EventPlan:
    name: str
    description: str
    forced: bool               # the peer's use of the ring cannot be waited for
    reactions: tuple           # Reaction per own state (`other` holds the event name)

    def reaction(self, own: str) -> Reaction:
        return next(r for r in self.reactions if r.own == own)

    def groups(self) -> list:
        """[(own states, steps)] for the states the event moves, those with the same steps together."""
        return group_reactions(self.reactions)


@dataclass(frozen=True)
class MachinePlan:
    side: str
    initial: str
    own_states: tuple          # states this side can be in (spec order)
    other_states: tuple        # every XenbusState name, by value
    state_values: dict         # name -> value
    ignores: tuple
    table: tuple               # ((other, (Reaction per own state...)), ...)
    probe: tuple               # Steps taken at probe/attach
    local: dict                # own state -> Step taken on our own from there (no skip kinds)
    tolerated: tuple           # Steps of kind skip the other end may take and we accept (descriptions)
    actions: tuple             # (name, description) of every action this side performs
    events: tuple = ()         # EventPlan per event of this side's diagram
    ring_in_use: tuple = ()    # own states in which this side may still use the shared ring

    def event(self, name: str) -> EventPlan:
        return next(e for e in self.events if e.name == name)

    def reaction(self, own: str, other: str) -> Reaction:
        for o, row in self.table:
            if o == other:
                for r in row:
                    if r.own == own:
                        return r
        raise KeyError((own, other))

    def row(self, other: str) -> tuple:
        return next(row for o, row in self.table if o == other)

    def row_groups(self, other: str) -> list:
        """[(own states, steps)] of one row, the states that react alike together."""
        return group_reactions(self.row(other))


@dataclass(frozen=True)
class Check:
    id: str
    what: str                  # the rule, in words (used as the generated comment)
    field: str | None          # request field checked
    limit: Limit | None
    status: str                # response status constant on failure


@dataclass(frozen=True)
class OpPlan:
    constant: str
    value: int
    struct: str                # wire struct of this request kind
    kind: str                  # rw | flush | barrier | discard | indirect | unsupported
    data: str                  # 'in' (device to pages) | 'out' (pages to device) | 'none'
    feature: str | None
    negotiation: str | None    # negotiation enabling it (the backend's offer must be on)
    writes: bool               # modifies the device (refused on a read-only device)
    min_segments: int | None
    max_segments: Limit | None
    inner_ops: tuple           # for indirect: operations it may carry
    checks: tuple              # Check...
    reserved: bool
    hook: str | None           # id of the hook if the plan does not know how to serve it
    description: str


@dataclass(frozen=True)
class RequestPlan:
    ops: tuple                 # OpPlan, every operation constant of the spec
    status_ok: str
    status_error: str
    status_unsupported: str
    sector_size: int           # unit of first_sect/last_sect (and of sector numbers unless large sectors)
    sectors_per_page: int
    segment_struct: str
    segments_per_indirect_page: int
    max_direct_segments: Limit
    max_indirect_pages: Limit
    indirect_hard_max: int
    segment_checks: tuple      # Check... applied to every segment, direct or indirect
    common_checks: tuple       # Check... applied before the opcode is looked at
    discard_flags: tuple       # constant names of allowed discard flag bits
    copy_rule: str


@dataclass(frozen=True)
class Protocol:
    constant: str
    value: str
    abis: tuple                # ABI names using it
    variant: str | None        # translation variant for a backend of another ABI, if any


@dataclass(frozen=True)
class Transport:
    page_size: int
    ring_header_size: int
    entries_per_page: dict     # ABI -> requests per ring page
    ring_ref: str              # node of a one-page ring
    ring_ref_pattern: str      # node pattern of a multi-page ring
    event_channel: str
    queue_dir: str             # 'queue-%u'
    per_queue: tuple           # nodes that move under queue-%u with several queues
    protocol_node: str
    protocols: tuple           # Protocol...
    native_default: str        # what an absent protocol node means


@dataclass(frozen=True)
class Hook:
    id: str
    side: str
    action: str | None
    what: str                  # what to fill in
    default: str               # what the generated code does until then


@dataclass(frozen=True)
class Param:
    """A tunable of this side (a module parameter on Linux, a sysctl/tunable elsewhere)."""
    name: str
    default: int
    negotiation: str
    description: str
    hard_max: Limit | None     # what the protocol allows (the OS may allow less)


@dataclass(frozen=True)
class Decision:
    """How one side settles one negotiated value, and where."""
    negotiation: str
    action: str                # action in which it is settled
    how: str                   # min | accepted | both | peer_offer | own_offer
    peer: NodeUse | None       # node read from the other end (its offer, or its accept)
    peer_legacy: NodeUse | None
    own: NodeUse | None        # node we write for it (our offer or our accept)
    own_legacy: NodeUse | None
    param: str | None          # our tunable (local limit or local offer)
    floor: int | None
    hard_max: Limit | None
    default: int               # value when nothing was published
    formula: str
    where: str


@dataclass(frozen=True)
class SidePlan:
    side: str
    reads: tuple               # NodeUse...
    writes: tuple              # NodeUse...
    decisions: tuple           # Decision... (one per negotiation)
    params: tuple              # Param...
    machine: MachinePlan
    hooks: tuple               # Hook...
    actions: tuple             # every action name this side implements

    def decisions_in(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]

    def decision(self, name: str) -> Decision:
        return next(d for d in self.decisions if d.negotiation == name)

    def nodes(self) -> list[NodeUse]:
        return [*self.reads, *self.writes]

    def reads_in(self, action: str) -> list[NodeUse]:
        return [n for n in self.reads if n.action == action]

    def writes_in(self, action: str) -> list[NodeUse]:
        return [n for n in self.writes if n.action == action]

    def read(self, name: str, node_side: str | None = None) -> NodeUse | None:
        return next((n for n in self.reads if n.name == name and node_side in (None, n.node_side)), None)

    def write(self, name: str) -> NodeUse | None:
        return next((n for n in self.writes if n.name == name), None)

    def touched(self) -> list[tuple[str, str]]:
        """(directory side, node name) of every node this side reads or writes."""
        out: list = []
        for n in self.nodes():
            if (n.node_side, n.name) not in out:
                out.append((n.node_side, n.name))
        return out


@dataclass(frozen=True)
class Plan:
    spec_file: str
    spec_sha256: str
    device_type: str           # the xenbus device class the drivers bind to
    frontend: SidePlan
    backend: SidePlan
    negotiation: tuple         # NegotiationPlan...
    requests: RequestPlan
    transport: Transport
    hooks: tuple               # every Hook of both sides

    def side(self, side: str) -> SidePlan:
        return self.frontend if side == "frontend" else self.backend

    def negotiated(self, name: str) -> NegotiationPlan:
        return next(n for n in self.negotiation if n.name == name)

    def negotiation_by_feature(self, feature: str) -> NegotiationPlan | None:
        return next((n for n in self.negotiation if n.feature == feature), None)

    def op(self, constant: str) -> OpPlan:
        return next(o for o in self.requests.ops if o.constant == constant)

    def as_dict(self) -> dict:
        return _plain(self)


def _plain(obj: Any) -> Any:
    if is_dataclass(obj):
        out = {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
        if isinstance(obj, MachinePlan):
            out["table"] = {other: {r.own: _plain(r) for r in row} for other, row in obj.table}
        return out
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
