"""The OS-agnostic decisions of a blkfront/blkback pair, computed once.

Every OS's driver templates need the same answers: which XenStore nodes a side
reads (with the spec's default and the limits to clamp to) and writes (in which
state, from what value), how each negotiated value is settled, what a side does
when the other end changes state, which checks the backend applies to every
request, and what is deliberately left for the user to fill in.  `build(spec)`
derives all of it from the spec and returns a `Plan` of frozen dataclasses; a
template only spells these answers in its OS's kernel API and decides nothing.

`Plan.as_dict()` gives the same data as plain JSON-able values (printed by
`xendrvgen plan`), which is the easiest way to see what a template receives.

Derivation rules that the spec does not state in so many words are written
down here, once, next to the code that applies them:

* A node is read by the side listed in its `readers` and written by its
  `writer`.  Nodes live in the directory of their `side`; for a driver that is
  either its own directory or the other end's.
* Reads happen in the action that starts the startup transition fired when the
  other end reaches the node's `published_in` state (nodes without one, i.e.
  toolstack nodes, are read by the first action taken at probe).  Writes happen
  in the `publish_*` action of the startup transition that enters the node's
  `published_in` state.
* A limit that names a node (`max: {node: ...}`) names the peer's offer: the
  node of that name in the other directory.  A default that names a node names
  one in the same directory.
* Values the other end decides that shape shared memory (the `accept` node of a
  `min` negotiation and its legacy twin) are rejected when out of range, since
  clamping them would disagree with what the peer allocated; every other value
  read from the peer is clamped.
* Accept nodes of `min` negotiations are written only when the value differs
  from the node's default, which old peers read as absence (so a one-page ring
  is announced with `ring-ref` alone and one queue without `queue-%u`).
"""
from __future__ import annotations

from xendrvgen.spec import drivernames as dn
from xendrvgen.spec.model import Spec, other_side
from .negotiation import Negotiation
from .nodes import Nodes
from .records import Plan, SidePlan
from .requests import Requests
from .rules import DEVICE_TYPE, PlanError, display_name
from .sides import Sides
from .states import States

__all__ = ["PlanError", "build"]


# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
class _Builder(Negotiation, Requests, Nodes, States, Sides):
    """Every decision of the plan, each mixin deriving one part from the spec."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.transport_names = {"ring_ref": dn.RING_REF, "protocol": dn.PROTOCOL}
        # (directory side, node name) -> [(negotiation name, role as the owner of that directory)]
        self.neg_roles: dict = {}

        def add(side, name, neg, role):
            self.neg_roles.setdefault((side, name), []).append((neg, role))
        for g in spec.negotiation:
            deciders = ("frontend", "backend") if g.decider == "both" else (g.decider,)
            for dec in deciders:
                add(other_side(dec), g.offer, g.name, "offer")
                if g.accept and g.rule == "min":
                    add(dec, g.accept, g.name, "accept")
                if g.legacy:
                    add(other_side(dec), g.legacy["offer"], g.name, "legacy_offer")
                    add(dec, g.legacy["accept"], g.name, "legacy_accept")
            for w in g.with_nodes:
                add(g.offered_by if g.decider != "backend" else "frontend", w, g.name, "with")

    # -- all -----------------------------------------------------------------
    def build(self) -> Plan:
        negs = self.negotiation()
        neg_by = {n.name: n for n in negs}
        req = self.requests(negs)
        sides = {}
        for side in ("frontend", "backend"):
            reads, writes = self.side_nodes(side, neg_by)
            decisions, params = self.decisions(side, negs, reads, writes)
            mach = self.machine(side)
            hooks = self.hooks(side, reads, writes, req, negs)
            sides[side] = SidePlan(side, reads, writes, decisions, params, mach, hooks,
                                   tuple(a for a, _ in mach.actions))
        return Plan(display_name(self.spec.file), self.spec.sha256, DEVICE_TYPE, sides["frontend"], sides["backend"], negs, req,
                    self.transport(), (*sides["frontend"].hooks, *sides["backend"].hooks))


def build(spec: Spec) -> Plan:
    """The driver plan of a checked spec."""
    return _Builder(spec).build()
