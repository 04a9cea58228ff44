"""Semantic checks of a spec's state machines: unique state values, a machine
per side, transitions naming known states, events and the side's own actions,
every state of the other end handled exactly once, every state reachable and
none a dead end, and the ring's lifetime (released only where the other end
can no longer use it)."""
from __future__ import annotations

from xendrvgen.base.diagnostics import Collector
from .model import Spec, did_you_mean, other_side


def check_machines(spec: Spec, d: Collector) -> None:
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
