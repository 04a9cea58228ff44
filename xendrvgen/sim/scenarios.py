"""The scenarios of `xendrvgen sim`: what each run does, and what must hold after it.

A scenario is a list of commands for the sim binary (see sim_main.c.j2:
`start`, I/O, toolstack moves, driver events, `verify`) and the checks of
its outcome.  Every scenario also passes only with no violation (a grant
revoked while mapped, a read that returned other data than the disk holds,
an unknown response id, I/O that never completed, sides that never settle),
no driver giving up (FATAL) and no failed I/O, unless it says otherwise;
a scenario that writes verifies the whole image byte for byte at the end.
Expectations for a pairing come from the plan (our side's tunables) and the
personality's traits (a peer's limits).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .personalities import BY_NAME


@dataclass(frozen=True)
class Pair:
    front: str                     # 'ours' or a frontend personality
    back: str
    front_os: str
    back_os: str

    @property
    def ours_front(self) -> bool:
        return self.front == "ours"

    @property
    def ours_back(self) -> bool:
        return self.back == "ours"

    def trait(self, name: str, default=None):
        """A trait of the peer in this pairing (ours: the plan's defaults)."""
        for n in (self.back, self.front):
            if n != "ours" and name in BY_NAME[n].traits:
                return BY_NAME[n].traits[name]
        return default

    def label(self) -> str:
        f = f"ours({self.front_os})" if self.ours_front else self.front
        b = f"ours({self.back_os})" if self.ours_back else self.back
        return f"{f} / {b}"


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    script: Callable[[Pair], list]
    check: Callable[[Pair, "object"], list] = lambda p, o: []
    applies: Callable[[Pair], bool] = lambda p: True
    allow_fatal: bool = False


DISK_SECTORS = 4096


def workload(p: Pair, seed: int = 1, base: int = 0, lbs: int = 512) -> list:
    """Writes of every shape, flush, barrier, discard, then reads of it all, checked."""
    a = max(1, lbs // 512)                       # keep to the backing store's blocks

    def al(n):
        return ((n + a - 1) // a) * a
    cmds = [
        f"write {base + al(0)} {al(1)} {seed}",              # one sector (or block)
        f"write {base + al(3)} {al(2)} {seed + 1}",          # starts inside a page
        f"write {base + 8} {al(88)} {seed + 2}",             # eleven pages: a full direct request
        f"write {base + 200} {al(520)} {seed + 3}",          # 65 pages: indirect when negotiated
        "wait", "flush",
        f"barrier {base + 800} {al(8)} {seed + 4}",
        f"discard {base + 1000} {al(16)}",
        "wait",
        f"write {DISK_SECTORS - al(8)} {al(8)} {seed + 5}",    # the last sectors of the disk
        "wait",
        f"read {base} 1024", f"read {base + al(3)} {al(2)}", f"read {DISK_SECTORS - 64} 64",
        "wait",
    ]
    return cmds


def start(p: Pair, *pre: str, lbs: int = 512) -> list:
    return [f"pair {p.front} {p.back}", f"disk {DISK_SECTORS} {lbs}", *pre, "start", "show"]


def states(o, fe: str, be: str) -> list:
    got = o.state
    return [] if got == (fe, be) else [f"ended in frontend {got[0]}, backend {got[1]}; expected {fe}, {be}"]


def negotiated(o, **want) -> list:
    out = []
    for k, v in want.items():
        if o.fe.get(k) != v:
            out.append(f"the frontend negotiated {k} {o.fe.get(k)}, expected {v}")
    return out


def released(o) -> list:
    if o.hv.get("grants") or o.hv.get("mapped"):
        return [f"{o.hv.get('grants')} grant(s) still live and {o.hv.get('mapped')} mapping(s) held after the close"]
    return []


def verified(o) -> list:
    return [] if o.verified else ["the disk image was not verified"]


def _closed(p: Pair):
    return p.trait("closed", ("Closed", "Closed"))


def _startup_check(p, o):
    errs = states(o, "Connected", "Connected")
    if p.ours_front and p.ours_back:
        errs += negotiated(o, order=4, queues=4, persistent=1, indirect_segments=256, flush=1, barrier=1, discard=1)
    return errs


FEATURES = {
    # feature: (the backend's tunable or switch, the frontend's negotiated field)
    "persistent": ("persistent_grants", "persistent"),
    "indirect": ("max_indirect_segments", "indirect_segments"),
    "flush": ("flush", "flush"),
    "barrier": ("barrier", "barrier"),
    "discard": ("discard", "discard"),
}


def _feature_off(feature: str) -> Scenario:
    param, field = FEATURES[feature]
    return Scenario(
        f"feature-off-{feature}", f"the backend does not offer {feature}: off on both ends, the data still intact",
        lambda p: start(p, f"param be {param} 0") + workload(p) + ["verify", "show"],
        lambda p, o: states(o, "Connected", "Connected") + negotiated(o, **{field: 0}) + verified(o),
        applies=lambda p: p.ours_front and p.ours_back)


def _geometry_4k(p: Pair, o) -> list:
    """What a frontend that honours sector-size sees of a 4Kn disk."""
    if p.front != "4k-front":
        return []
    return [f"the frontend saw {k} {o.fe.get(k)}, expected {v}"
            for k, v in (("sector_size", 4096), ("sectors", DISK_SECTORS)) if o.fe.get(k) != v]


def _unexpected(p: Pair) -> list:
    cmds = start(p) + ["write 64 16 7", "wait"]
    for side, ours in (("be", p.ours_front), ("fe", p.ours_back)):
        if ours:
            for value in ("7", "8", "0", "42"):       # Reconfiguring, Reconfigured, Unknown, out of range
                cmds += [f"set-state {side} {value}", "show"]
            cmds += [f"set-state {side} 4"]
    return cmds + workload(p, seed=20) + ["verify", "show"]


def _unexpected_check(p, o) -> list:
    errs = states(o, "Connected", "Connected") + verified(o)
    for st in o.states[1:]:
        # While one end shows the odd state, the other stays Connected.
        if "Connected" not in st:
            errs.append(f"a side moved on an unexpected state of its peer: frontend {st[0]}, backend {st[1]}")
    return errs


SCENARIOS = (
    Scenario("startup", "both ends connect; every negotiated value is what the plan's rules give",
             lambda p: start(p), _startup_check),
    Scenario("data", "writes of every shape (one sector, inside a page, a full direct request, indirect, the "
             "last sectors), flush, barrier, discard; read back through the ring; the image byte for byte",
             lambda p: start(p) + workload(p) + ["verify", "show"],
             lambda p, o: states(o, "Connected", "Connected") + verified(o)),
    *(_feature_off(f) for f in FEATURES),
    Scenario("features-off-front", "our frontend offers no persistent grants and no indirect segments",
             lambda p: start(p, "param fe persistent_grants 0", "param fe max_indirect_segments 0")
             + workload(p) + ["verify", "show"],
             lambda p, o: negotiated(o, persistent=0, indirect_segments=0) + verified(o),
             applies=lambda p: p.ours_front),
    Scenario("ring-one-page", "a one-page ring (ring-ref, no ring-page-order): data intact",
             lambda p: start(p, "param fe max_ring_page_order 0") + workload(p) + ["verify", "show"],
             lambda p, o: states(o, "Connected", "Connected") + negotiated(o, order=0) + verified(o),
             applies=lambda p: p.ours_front),
    Scenario("ring-multi-page", "a ring of four pages where the backend allows it",
             lambda p: start(p, "param fe max_ring_page_order 2") + workload(p) + ["verify", "show"],
             lambda p, o: states(o, "Connected", "Connected") + negotiated(o, order=min(2, p.trait("max_order", 4)))
             + verified(o),
             applies=lambda p: p.ours_front),
    Scenario("multi-queue", "four queues where the backend allows them (one otherwise), requests spread over them",
             lambda p: start(p, "param fe multi_queue_max_queues 4") + workload(p) + ["verify", "show"],
             lambda p, o: negotiated(o, queues=min(4, p.trait("queues", 4))) + verified(o),
             applies=lambda p: p.ours_front),
    Scenario("sector-4k", "a backing store of 4096-byte blocks: requests keep to them, in 512-byte units",
             lambda p: start(p, lbs=4096) + workload(p, lbs=4096) + ["verify", "show"],
             lambda p, o: states(o, "Connected", "Connected") + verified(o) + _geometry_4k(p, o),
             applies=lambda p: p.ours_front or p.front == "4k-front"),
    Scenario("close-frontend", "the frontend driver goes away (unbound): both ends close, every grant is "
             "revoked once the backend unmapped it",
             lambda p: start(p) + workload(p) + ["event fe removed", "show", "verify"],
             lambda p, o: states(o, *_closed(p)) + released(o) + verified(o)),
    Scenario("close-toolstack", "the toolstack closes (online 0, backend Closing) while a user holds the disk: "
             "I/O goes on until the user lets go, then both close in order",
             lambda p: start(p) + ["open 1", "toolstack-close", "show"]
             + (["write 64 16 5", "read 64 16", "wait"] if p.ours_front else []) + ["close", "show", "verify"],
             lambda p, o: states(o, *_closed(p)) + released(o) + verified(o)
             + ([] if not p.ours_front or (o.states and o.states[1][0] == "Closing")
                else ["the frontend did not wait in Closing for its user"])),
    Scenario("close-backend", "the backend driver goes away (unbound): the frontend closes too",
             lambda p: start(p) + workload(p) + ["event be removed", "show", "verify"],
             lambda p, o: states(o, "Closed", "Closed") + verified(o),
             applies=lambda p: p.ours_front),
    Scenario("reconnect-resume", "a restore on another host with requests in flight: a new backend, the same "
             "disk, what was in flight sent again",
             lambda p: start(p) + workload(p) + ["write 3000 64 9", "write 3100 256 10", "resume", "wait",
                                                 "show"] + workload(p, seed=30) + ["verify", "show"],
             lambda p, o: states(o, "Connected", "Connected") + verified(o),
             applies=lambda p: p.ours_front),
    Scenario("reconnect-after-close", "after a close the frontend goes back to Initialising and connects again",
             lambda p: start(p) + workload(p) + ["set-state be 5", "show", "event fe handover", "show"]
             + workload(p, seed=40) + ["verify", "show"],
             lambda p, o: states(o, "Connected", "Connected") + verified(o)
             + ([] if len(o.states) > 2 and o.states[1] == ("Closed", "Closed")
                else ["the first connection did not close"]),
             applies=lambda p: p.ours_front),
    Scenario("unexpected-states", "the peer shows Reconfiguring, Reconfigured, Unknown and 42: ignored, "
             "then I/O goes on",
             _unexpected, _unexpected_check),
    Scenario("xs-race", "another writer races the transactions: EAGAIN, retried",
             lambda p: [f"pair {p.front} {p.back}", f"disk {DISK_SECTORS} 512", "race 2", "start", "show",
                        "write 0 8 3", "wait", "verify"],
             lambda p, o: states(o, "Connected", "Connected") + verified(o)
             + ([] if any("EAGAIN" in t for t in o.trace) else ["no transaction conflicted"])),
    Scenario("hotplug-late", "the hotplug script runs late: the backend waits in InitWait, then connects",
             lambda p: [f"pair {p.front} {p.back}", f"disk {DISK_SECTORS} 512", "nohotplug", "start", "show",
                        "hotplug", "show", "write 0 8 4", "wait", "verify"],
             lambda p, o: states(o, "Connected", "Connected") + verified(o)
             + ([] if o.states and o.states[0][1] == "InitWait" else ["the backend did not wait for the hotplug script"])),
)

BY_SCENARIO = {s.name: s for s in SCENARIOS}
