"""The XenStore nodes each side reads and writes: in which action, from what
source, with which default and limits (the derivation rules in the package
docstring)."""
from __future__ import annotations

from dataclasses import replace

from xendrvgen.spec import nodenames
from xendrvgen.spec.model import XsNode, other_side
from .records import NodeUse, ident
from .rules import (
    ALTERNATIVES,
    DEVICE_QUANTITIES,
    EXTENSION_QUANTITIES,
    NEEDED_CONFIG,
    node_field,
    order_by_defaults,
    spec_position,
)


class Nodes:
    # -- nodes ---------------------------------------------------------------
    def node_use(self, n: XsNode, me: str, writing: bool, action: str | None, negs: dict) -> NodeUse:
        roles = self.neg_roles.get((n.side, n.name), [])
        neg_name, role = roles[0] if roles else (None, None)
        if role == "offer" and writing:
            role = "local_offer"        # the offer we publish ourselves
        neg = negs.get(neg_name)
        shape = "pattern" if n.is_pattern else ("per_queue" if n.per_queue else "scalar")
        on_range = "reject" if (not writing and role in ("accept", "legacy_accept") and neg and neg.rule == "min") else "clamp"
        condition = None
        if n.is_pattern and not n.per_queue:
            condition = "multi_queue"           # queue-%u directories
        elif n.is_pattern:
            condition = "multi_page"            # ring-ref%u
        elif n.per_queue and n.name == self.transport_names["ring_ref"]:
            condition = "single_page"           # ring-ref
        elif role in ("accept", "legacy_accept") and neg and neg.write_accept_when:
            condition = neg.write_accept_when
        source, quantity = self.source(n, me, writing, role)
        bits = tuple(c.name for c in self.spec.constants_in("vdisk_info")) if n.type == "bitmap" else ()
        alternative = next((x for pair in ALTERNATIVES for x in pair if n.name in pair and x != n.name), None)
        if writing or n.default is not None:
            need = "optional"
        elif alternative is not None and any(m.name == alternative for m in self.spec.nodes):
            need = "one_of"
        elif n.writer != "toolstack" or n.name in NEEDED_CONFIG:
            need = "required"
        else:
            need = "optional"
        counterpart = None
        if writing and n.extension:
            # The other end's node of the same name caps ours, if it is published first.
            peer = self.spec.node(other_side(n.side), n.name)
            order = {s.name: s.value for s in self.spec.states}
            if peer is not None and me in peer.readers and peer.published_in and n.published_in and \
                    order.get(peer.published_in, 99) < order.get(n.published_in, 0):
                counterpart = node_field(peer)
        value: tuple = ()
        if writing:
            g = self.spec.negotiated(neg_name) if neg_name else None
            if source == "transport":
                value = ("transport",)
            elif source == "negotiated":
                value = ("negotiated", neg_name)
            elif source == "legacy" and role == "legacy_accept":
                value = ("pages_of_negotiated", neg_name)
            elif source == "legacy" and role == "legacy_offer" and g is not None:
                value = ("pages_of", node_field(self.spec.node(n.side, g.offer)))
            elif source == "offer":
                value = ("param", negs[neg_name].param if neg_name in negs else ident(n.name))
            elif source in ("device", "extension"):
                value = ("quantity", quantity)
            else:
                value = ("default",)
        return NodeUse(
            name=n.name, ident=ident(n.name), field=node_field(n),
            node_side=n.side, dir="own" if n.side == me else "otherend", type=n.type,
            default=self.limit(n.default, n, True), min=self.limit(n.min, n, False),
            max=self.limit(n.max, n, False), on_range=on_range, values=tuple(n.values), bits=bits,
            shape=shape, action=action, published_in=n.published_in, writer=n.writer, feature=n.feature,
            negotiation=neg_name, role=role, source=source, condition=condition, quantity=quantity,
            extension=n.extension, vendor=n.vendor, deprecated=n.deprecated, private=n.private,
            description=n.description, where=spec_position(n.mark), macro=nodenames.node_macro(n),
            queue_macro=nodenames.queue_macro(n) if n.per_queue else None, need=need,
            alternative=alternative, counterpart=counterpart,
            value_macros=tuple(nodenames.value_macro(n, v) for v in n.values), value=value)

    def source(self, n: XsNode, me: str, writing: bool, role: str | None) -> tuple[str, str | None]:
        if n.per_queue or n.is_pattern or n.name == self.transport_names["protocol"]:
            return "transport", None
        if writing:
            if role == "accept":
                return "negotiated", None
            if role == "legacy_accept":
                return "legacy", None
            if role in ("local_offer", "offer"):
                q = DEVICE_QUANTITIES.get(n.name) if me == "backend" else None
                return ("device", q) if q else ("offer", None)
            if role == "legacy_offer":
                return "legacy", None
            if n.name in DEVICE_QUANTITIES and me == "backend":
                return "device", DEVICE_QUANTITIES[n.name]
            if n.extension and n.name in EXTENSION_QUANTITIES:
                return "extension", EXTENSION_QUANTITIES[n.name]
            return "hook", None
        if role in ("offer", "legacy_offer", "accept", "legacy_accept", "local_offer"):
            return "negotiation", None
        if role == "with" or n.section == "properties" and n.writer != "toolstack":
            return "property", None
        if n.writer == "toolstack":
            return "config", None
        if n.extension:
            return "extension", None
        return "info", None

    def phase_actions(self, side: str) -> tuple[dict, dict, str | None]:
        """Map a published_in state to the action that reads / writes nodes published in it."""
        m = self.spec.machine(side)
        reads: dict = {}
        writes: dict = {}
        for t in m.transitions:
            if t.kind != "startup" or not t.do:
                continue
            readers = [a for a in t.do if not a.startswith("publish")]
            publishers = [a for a in t.do if a.startswith("publish")]
            for other in t.when or ():
                if readers:
                    reads.setdefault(other, readers[0])
            if publishers:
                writes.setdefault(t.to, publishers[0])
        probe = self.probe_steps(m)
        first = next((a for s in probe for a in s.actions), None)
        return reads, writes, first

    def side_nodes(self, side: str, negs: dict) -> tuple[tuple, tuple]:
        reads_at, writes_at, first = self.phase_actions(side)
        config = next((a.name for a in self.spec.actions if a.side == side and a.reads_config), first)
        late = reads_at.get("Connected")
        reads, writes = [], []
        for n in self.spec.nodes:
            if self.spec.retired(n):
                continue
            if side in n.readers and n.writer != side:
                # What the toolstack wrote is read by the step marked reads_config.
                action = reads_at.get(n.published_in) if n.published_in else config
                if action is None:
                    action = first
                use = self.node_use(n, side, False, action, negs)
                neg = negs.get(use.negotiation)
                # An offer that settles nothing we publish is read once the other end is
                # Connected: some backends (Linux's) write their features only then.
                if late and neg is not None and use.role in ("offer", "with") and not (
                        neg.rule == "min" and neg.accept and neg.decider == side):
                    use = replace(use, action=late)
                reads.append(use)
            if n.writer == side:
                action = writes_at.get(n.published_in) if n.published_in else None
                if action is None:
                    action = next(iter(writes_at.values()), first)
                writes.append(self.node_use(n, side, True, action, negs))
        # Within an action, a node whose default names another node is read after it.
        reads = order_by_defaults(reads)
        return tuple(reads), tuple(writes)
