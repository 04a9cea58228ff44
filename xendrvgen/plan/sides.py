"""What each side leaves to its user and its OS: the decisions (values a
driver picks), the parameters, and the hooks the templates call."""
from __future__ import annotations

from xendrvgen.spec.model import other_side
from .records import Decision, Hook, Limit, Param, RequestPlan
from .rules import BASE_HOOKS, KNOWN_NEGOTIATIONS


class Sides:
    # -- decisions -----------------------------------------------------------
    def decisions(self, side: str, negs: tuple, reads: tuple, writes: tuple) -> tuple[tuple, tuple]:
        rd = {(n.node_side, n.name): n for n in reads}
        wr = {n.name: n for n in writes}
        peer_side = other_side(side)
        out, params = [], []
        for g in negs:
            peer = own = peer_legacy = own_legacy = None
            param = None
            default = g.offer_default
            if g.rule == "min":
                if g.decider == side:
                    how = "min"
                    peer = rd.get((peer_side, g.offer))
                    peer_legacy = rd.get((peer_side, g.legacy.offer)) if g.legacy else None
                    own = wr.get(g.accept) if g.accept else None
                    own_legacy = wr.get(g.legacy.accept) if g.legacy else None
                    default = max(g.floor or 0, min(g.offer_default, g.local_limit or 0))
                else:
                    how = "accepted" if g.accept else "own_offer"
                    peer = rd.get((peer_side, g.accept)) if g.accept else None
                    peer_legacy = rd.get((peer_side, g.legacy.accept)) if g.legacy else None
                    own = wr.get(g.offer)
                    own_legacy = wr.get(g.legacy.offer) if g.legacy else None
                    default = g.accept_default if g.accept_default is not None else g.offer_default
                param = g.param
                params.append(Param(g.param, g.local_limit or 0, g.name,
                                    f"{g.description.rstrip('.')}: the most this {side} allows "
                                    f"(spec local limit {g.local_limit}).", g.hard_max))
            elif g.rule == "both":
                how = "both"
                peer = rd.get((peer_side, g.offer))
                own = wr.get(g.offer)
                param = g.param
                params.append(Param(g.param, g.local_offer if g.local_offer is not None else 1, g.name,
                                    f"{g.description.rstrip('.')}: this {side}'s offer (1 on, 0 off).", Limit("int", 1)))
                default = 0
            else:   # offered: the side that does not publish the offer follows it
                if g.offered_by == side:
                    how = "own_offer"
                    own = wr.get(g.offer)
                    if own is not None and own.source == "offer":
                        param = g.param
                        params.append(Param(g.param, g.local_offer if g.local_offer is not None else 1, g.name,
                                            f"{g.description.rstrip('.')}: this {side}'s offer (1 on, 0 off).", Limit("int", 1)))
                else:
                    how = "peer_offer"
                    peer = rd.get((peer_side, g.offer))
            action = (peer.action if peer is not None else None) or (own.action if own is not None else None) \
                or self.side_first_action(side)
            formula = g.formula
            if how == "accepted":
                formula = (f"the {peer_side}'s {g.accept} (absent: {default})"
                           + (f" or {g.legacy.accept} converted to an order" if g.legacy else "")
                           + ", refused when above what we offered")
            elif how == "own_offer":
                formula = f"what we offered in {g.offer}"
            out.append(Decision(g.name, action, how, peer, peer_legacy, own, own_legacy, param, g.floor,
                                g.hard_max, default, formula, g.where))
        return tuple(out), tuple(params)

    def side_first_action(self, side: str) -> str | None:
        steps = self.probe_steps(self.spec.machine(side))
        return next((a for s in steps for a in s.actions), None)

    # -- hooks ---------------------------------------------------------------
    def hooks(self, side: str, reads: tuple, writes: tuple, req: RequestPlan, negs: tuple) -> tuple:
        out = [Hook(f"{side[:2] if side == 'frontend' else 'be'}_{hid}".replace("fr_", "fe_"), s, action, what, default)
               for s, hid, action, what, default in BASE_HOOKS if s == side]
        for n in writes:
            if n.source == "hook":
                out.append(Hook(f"{'fe' if side == 'frontend' else 'be'}_node_{n.ident}", side, n.action,
                                f"Compute the value of {n.name} ({n.description.split('. ')[0]}).",
                                f"the spec default ({n.default.describe() if n.default else 'empty'}) is written"))
        for n in reads:
            if n.source == "info" and not n.negotiation:
                out.append(Hook(f"{'fe' if side == 'frontend' else 'be'}_node_{n.ident}", side, n.action,
                                f"Act on {n.name} ({n.description.split('. ')[0]}).",
                                "the value is read, clamped and stored, and nothing else uses it"))
        for g in negs:
            if g.name not in KNOWN_NEGOTIATIONS:
                out.append(Hook(f"{'fe' if side == 'frontend' else 'be'}_negotiation_{g.name}", side, None,
                                f"Use the negotiated {g.name} ({g.description.rstrip('.')}).",
                                "the value is settled and published, and nothing else uses it"))
        if side == "backend":
            for o in req.ops:
                if o.hook:
                    out.append(Hook(f"be_{o.hook}", side, "map_rings",
                                    f"Serve {o.constant} ({o.value}): {o.description.split('. ')[0]}.",
                                    f"answered {req.status_unsupported}"))
        return tuple(out)
