"""Model-check the two sides' state diagrams against each other.

Both machines come from the plan (`xendrvgen plan`), so what is checked is
exactly what every OS's templates spell.  A global state holds each side's
XenbusState, whether a watch on the peer's state is pending, and what each
side has done that the other depends on: the frontend's transport published,
its disk attached; the backend's features and device properties published,
its backing store open, its rings mapped; whether a user holds the disk.

Moves, in every order:
- a side's watch fires and it reacts to the peer's *current* state (XenStore
  coalesces events: several changes may give one firing); a firing with
  nothing pending is a duplicate delivery, also allowed;
- the toolstack's hotplug script (backing_ready), once the backend published
  its features; the disk's last user letting go; disk_released;
- disturbances, each once: a toolstack close at any point, and a resume
  (save/restore or migration: the old backend is gone, a new one starts).

Found and reported with the shortest trace to it:
- a read before the write: the backend maps rings whose ring-ref the
  frontend never published, a frontend negotiates before the backend's
  features or reads device properties the backend never wrote;
- a teardown while the other end may still use the ring: the backend unmaps
  while the frontend is in its ring_in_use states, or the frontend revokes
  grants the backend still maps;
- waiting forever: a reachable state from which neither both-Connected nor
  both-Closed can be reached by the moves that must eventually happen
  (pending watches, the hotplug script, the user letting go).

The forced events `removed` and the firmware's `shutdown`/`handover` are not
explored: they end the device whatever the peer does.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace

FE, BE = "frontend", "backend"
GOALS = "both Connected with the disk attached and the rings mapped, or both Closed"


@dataclass(frozen=True)
class G:
    """One global state."""
    fe: str
    be: str
    fe_pend: bool = True          # the first watch registration always fires
    be_pend: bool = True
    fe_pub: bool = False          # transport (ring-ref, event-channel) published
    fe_att: bool = False          # disk attached: the frontend uses the ring
    be_feat: bool = False
    be_props: bool = False
    be_back: bool = False
    be_map: bool = False
    held: bool = True             # a user holds the disk open
    used: frozenset = frozenset()  # environment moves already made


@dataclass
class Violation:
    kind: str                     # read_before_write | teardown_in_use | waits_forever
    message: str
    trace: list                   # event descriptions, first to last

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "trace": self.trace}


@dataclass
class Result:
    states: int
    transitions: int
    seconds: float
    violations: list = field(default_factory=list)
    bounded: bool = False          # the search hit its state limit

    @property
    def ok(self) -> bool:
        return not self.violations and not self.bounded

    def as_dict(self) -> dict:
        return {"ok": self.ok, "states": self.states, "transitions": self.transitions,
                "seconds": self.seconds, "bounded": self.bounded,
                "violations": [v.as_dict() for v in self.violations]}


class _Fault(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class _Wait(Exception):
    """The reaction waits (map_rings before the backing store is open)."""


class Model:
    def __init__(self, plan):
        self.m = {FE: plan.side(FE).machine, BE: plan.side(BE).machine}

    # --- the start -------------------------------------------------------------------------
    def initial(self) -> tuple[G, list]:
        g = G(fe=self.m[FE].initial, be=self.m[BE].initial)
        labels = []
        for side in (FE, BE):
            for step in self.m[side].probe:
                g = self._step(g, side, step)
                labels.append(f"{side} probes: -> {step.to} [{', '.join(step.actions) or 'nothing'}]")
        return g, labels

    # --- moves: (label, next state, obliged) ------------------------------------------------
    def moves(self, g: G):
        for side in (FE, BE):
            pend = g.fe_pend if side == FE else g.be_pend
            peer = g.be if side == FE else g.fe
            label = f"{side} sees {_other(side)} {peer}" + ("" if pend else " (a duplicate watch event)")
            yield label, lambda g=g, side=side: self._react(g, side), pend
        be_m = self.m[BE]
        if "hotplug" not in g.used and g.be_feat and _has_event(be_m, "backing_ready"):
            yield "the hotplug script runs (backing_ready)", lambda: self._event(
                replace(g, used=g.used | {"hotplug"}, be_pend=True), BE, "backing_ready"), True
        if "tsclose" not in g.used and g.be != be_m.initial and _has_event(be_m, "toolstack_close"):
            yield "the toolstack closes the device (toolstack_close)", lambda: self._event(
                replace(g, used=g.used | {"tsclose"}), BE, "toolstack_close"), False
        if g.held and g.fe == "Closing":
            yield "the disk's last user lets go", lambda: replace(g, held=False), True
        fe_m = self.m[FE]
        if not g.held and _has_event(fe_m, "disk_released") and _event_steps(fe_m, "disk_released", g.fe):
            yield "disk_released", lambda: self._event(g, FE, "disk_released"), True
        if "resume" not in g.used and g.fe != fe_m.initial and _has_event(fe_m, "resume"):
            yield "the domain is restored (resume): the old backend is gone, a new one starts", \
                lambda: self._resume(g), False

    def _resume(self, g: G) -> G:
        new = G(fe=g.fe, be=self.m[BE].initial, fe_pend=True, be_pend=True, fe_pub=g.fe_pub, fe_att=g.fe_att,
                held=g.held, used=(g.used - {"hotplug"}) | {"resume"})
        for step in self.m[BE].probe:
            new = self._step(new, BE, step)
        return self._event(new, FE, "resume", forced=True)

    def _react(self, g: G, side: str) -> G:
        g = replace(g, fe_pend=False) if side == FE else replace(g, be_pend=False)
        m = self.m[side]
        other = g.be if side == FE else g.fe
        if other in m.ignores:
            return g
        try:
            r = m.reaction(_own(g, side), other)
        except KeyError:
            return g
        return self._run(g, side, r.steps)

    def _event(self, g: G, side: str, name: str, forced: bool = False) -> G:
        return self._run(g, side, _event_steps(self.m[side], name, _own(g, side)), forced)

    def _run(self, g: G, side: str, steps, forced: bool = False) -> G:
        try:
            for step in steps:
                g = self._step(g, side, step, forced)
        except _Wait:
            pass
        return g

    def _step(self, g: G, side: str, step, forced: bool = False) -> G:
        for a in step.actions:
            g = self._act(g, side, a, forced)
        if _own(g, side) != step.to:
            g = replace(g, fe=step.to, be_pend=True) if side == FE else replace(g, be=step.to, fe_pend=True)
        return g

    def _act(self, g: G, side: str, a: str, forced: bool) -> G:
        fe_use = self.m[FE].ring_in_use
        if side == FE:
            if a == "negotiate" and not g.be_feat:
                raise _Fault("read_before_write", "the frontend negotiates before the backend published its "
                             "features (publish_features)")
            if a == "publish_transport":
                return replace(g, fe_pub=True)
            if a == "read_device_properties" and not g.be_props:
                raise _Fault("read_before_write", "the frontend reads the device properties (sectors, sector-size) "
                             "before the backend wrote them (publish_device_properties)")
            if a == "attach_disk":
                return replace(g, fe_att=True)
            if a == "stop_io":
                return replace(g, fe_att=False)
            if a == "release_rings":
                if g.be_map and not forced:
                    raise _Fault("teardown_in_use", f"the frontend revokes its ring grants while the backend "
                                 f"({g.be}) still maps them")
                return replace(g, fe_pub=False)
            return g
        if a == "publish_features":
            return replace(g, be_feat=True)
        if a == "open_backing":
            return replace(g, be_back=True)
        if a == "map_rings":
            if not g.be_back:
                raise _Wait()
            if not g.fe_pub:
                raise _Fault("read_before_write", f"the backend maps the rings while the frontend ({g.fe}) has not "
                             "published ring-ref and event-channel (publish_transport)")
            return replace(g, be_map=True)
        if a == "publish_device_properties":
            return replace(g, be_props=True)
        if a == "unmap_rings":
            if g.be_map and g.fe in fe_use and g.fe_att and not forced:
                raise _Fault("teardown_in_use", f"the backend unmaps the rings while the frontend is {g.fe}, "
                             f"where it may still use them (ring_in_use: {', '.join(fe_use)})")
            return replace(g, be_map=False)
        if a == "close_backing":
            return replace(g, be_back=False)
        return g

    @staticmethod
    def goal(g: G) -> bool:
        return (g.fe == "Connected" and g.be == "Connected" and g.fe_att and g.be_map) or \
            (g.fe == "Closed" and g.be == "Closed")


def _own(g: G, side: str) -> str:
    return g.fe if side == FE else g.be


def _other(side: str) -> str:
    return BE if side == FE else FE


def _has_event(m, name: str) -> bool:
    return any(e.name == name for e in m.events)


def _event_steps(m, name: str, own: str) -> tuple:
    return m.event(name).reaction(own).steps if _has_event(m, name) else ()


def check(plan, limit: int = 200_000) -> Result:
    """Explore every interleaving (breadth first, so each trace is a shortest one)."""
    t0 = time.monotonic()
    model = Model(plan)
    res = Result(0, 0, 0.0)
    try:
        start, start_labels = model.initial()
    except _Fault as f:
        res.violations.append(Violation(f.kind, str(f), ["attach"]))
        res.seconds = round(time.monotonic() - t0, 3)
        return res
    parent: dict = {start: None}
    depth: dict = {start: 0}     # moves from the start: breadth first, so the fewest
    obliged: dict = {}          # state -> successors by moves that must eventually happen
    queue = deque([start])
    found_kinds: set = set()
    while queue:
        g = queue.popleft()
        obliged[g] = []
        for label, nxt, must in model.moves(g):
            res.transitions += 1
            try:
                h = nxt()
            except _Fault as f:
                key = (f.kind, str(f))
                if key not in found_kinds:
                    found_kinds.add(key)
                    res.violations.append(Violation(f.kind, str(f), _trace(parent, g, start_labels) + [label]))
                continue
            if must and h != g:
                obliged[g].append(h)
            if h not in parent:
                if len(parent) >= limit:
                    res.bounded = True
                    continue
                parent[h] = (g, label)
                depth[h] = depth[g] + 1
                queue.append(h)
    res.states = len(parent)
    # Waiting forever: no goal reachable by the moves that must eventually happen.
    good = {g for g in obliged if model.goal(g)}
    changed = True
    while changed:
        changed = False
        for g, succ in obliged.items():
            if g not in good and any(h in good for h in succ):
                good.add(g)
                changed = True
    stuck = [g for g in parent if g not in good]
    if stuck:
        # Report where it ends up waiting (a stuck state where nothing must happen any more),
        # the shallowest such, so its trace is the shortest; a livelock has none.
        dead = [s for s in stuck if not obliged[s]] or stuck
        g = min(dead, key=depth.__getitem__)
        res.violations.append(Violation(
            "waits_forever", f"frontend {g.fe}, backend {g.be}: {_facts(g)}; from here nothing that must happen "
            f"leads to {GOALS}", _trace(parent, g, start_labels)))
    res.seconds = round(time.monotonic() - t0, 3)
    return res


def _trace(parent: dict, g: G, start_labels: list) -> list:
    out = []
    while parent.get(g) is not None:
        g, label = parent[g]
        out.append(label)
    return list(start_labels) + out[::-1]


def _facts(g: G) -> str:
    facts = [name for name, on in (("transport published", g.fe_pub), ("disk attached", g.fe_att),
                                   ("backing open", g.be_back), ("rings mapped", g.be_map),
                                   ("a user holds the disk", g.held)) if on]
    pend = [s for s, p in ((FE, g.fe_pend), (BE, g.be_pend)) if p]
    return ", ".join(facts) + (f"; watches pending: {', '.join(pend)}" if pend else "; no watch pending")


def render_text(res: Result) -> str:
    head = (f"model-check: {res.states} states, {res.transitions} transitions explored in {res.seconds:.2f} s"
            + (" (the state limit was reached: the search is incomplete)" if res.bounded else ""))
    if not res.violations:
        return head + ("" if res.bounded else "\nno deadlock, no read before its write, no teardown in use")
    out = [head]
    for v in res.violations:
        out.append(f"\n{v.kind}: {v.message}")
        out += [f"  {i}. {e}" for i, e in enumerate(v.trace, 1)]
    return "\n".join(out)
