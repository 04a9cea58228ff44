"""The plan's values and negotiations: limits from constants and nodes, node
defaults, and how each negotiated value is settled (offer, accept, legacy
twin, the rule, the range a read value is clamped or rejected to)."""
from __future__ import annotations

import re

from xendrvgen.spec.model import ConstRef, NodeRef, XsNode, other_side
from .records import Legacy, Limit, NegotiationPlan
from .rules import LOCAL_OFFERS, spec_position


class Negotiation:
    # -- values --------------------------------------------------------------
    def const_limit(self, name: str) -> Limit:
        c = self.spec.constant(name)
        return Limit("const", c.value if c else None, name)

    def limit(self, v, node: XsNode, is_default: bool) -> Limit | None:
        if v is None:
            return None
        if isinstance(v, NodeRef):
            side = node.side if is_default else other_side(node.side)
            if self.spec.node(side, v.node) is None:      # fall back to wherever it is
                side = node.side if self.spec.node(node.side, v.node) else other_side(node.side)
            return Limit("node", None, v.node, side)
        if isinstance(v, ConstRef):
            return self.const_limit(v.constant)
        if isinstance(v, str):
            if self.spec.constant(v):
                return self.const_limit(v)
            if re.fullmatch(r"[A-Z][A-Z0-9_]+", v):
                return Limit("symbol", v, v)
            return Limit("str", v)
        return Limit("int", int(v))

    def default_of(self, side: str, name: str) -> int:
        n = self.spec.node(side, name)
        return n.default if n is not None and isinstance(n.default, int) else 0

    # -- negotiation ---------------------------------------------------------
    def negotiation(self) -> tuple:
        out = []
        for g in self.spec.negotiation:
            offered_by = g.offered_by if g.decider != "backend" else "frontend"
            offer_node = self.spec.node(offered_by, g.offer)
            feature = offer_node.feature if offer_node else None
            accept_node = self.spec.node(g.decider if g.decider != "both" else "frontend", g.accept) if g.accept else None
            offer_default = offer_node.default if offer_node and isinstance(offer_node.default, int) else 0
            hard_max = None
            ind = self.indirect_struct()
            ind_op = next((c for c in self.spec.constants_in("operation") if ind is not None and c.struct == ind.name), None)
            if ind_op is not None and feature is not None and feature == ind_op.feature:
                hard_max = Limit("int", self.indirect_hard_max(), "BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST pages of segments")
            elif g.rule == "min" and accept_node is not None and isinstance(accept_node.max, ConstRef):
                hard_max = self.const_limit(accept_node.max.constant)
            legacy = None
            if g.legacy:
                legacy = Legacy(g.legacy["offer"], g.legacy["accept"], g.legacy["unit"],
                                self.default_of(offered_by, g.legacy["offer"]))
            local_offer = None
            if g.rule in ("both", "offered"):
                local_offer = LOCAL_OFFERS.get(g.name, 1)
            if g.rule == "min":
                formula = (f"min({offered_by} {g.offer} (absent: {offer_default}), local limit {g.local_limit})")
                if legacy:
                    formula = (f"min(max({offered_by} {g.offer} (absent: {offer_default}), "
                               f"log2 of {legacy.offer} (absent: {legacy.offer_default})), "
                               f"local limit {g.local_limit})")
                if g.floor is not None:
                    formula = f"max({g.floor}, {formula})"
                if hard_max is not None:
                    formula += f", at most {hard_max.describe()}"
            elif g.rule == "both":
                formula = f"on when our own offer and the other end's {g.offer} are both 1"
            else:
                formula = f"on when the {offered_by}'s {g.offer} is 1 (absent: {offer_default})"
            param = g.offer.replace("-", "_") if g.rule == "min" else g.name
            if g.rule == "min" and g.offer.startswith("feature-"):
                param = g.offer[len("feature-"):].replace("-", "_")
            out.append(NegotiationPlan(
                name=g.name, description=g.description, rule=g.rule, decider=g.decider,
                offered_by=offered_by, offer=g.offer, offer_default=offer_default,
                accept=g.accept,
                accept_default=accept_node.default if accept_node and isinstance(accept_node.default, int) else None,
                local_limit=g.local_limit, local_offer=local_offer, floor=g.floor, hard_max=hard_max,
                legacy=legacy, with_nodes=tuple(g.with_nodes), feature=feature, param=param,
                write_accept_when="differs_from_default" if g.rule == "min" and g.accept else None,
                formula=formula, where=spec_position(g.mark)))
        return tuple(out)
