"""The scenario table, the pairings, and the plan a run hands to dom0.

A scenario is a row here plus a shell function `sc_<name>` (dashes become
underscores) in interop/linux/scenarios.sh that dom0 runs.  Rows run in table
order within a pairing; `sets` says which selections (`fast`, `all`) include
it.  `expect` gives, per frontend kind, how strictly the protocol's closing
rules are asserted: "strict" asserts everything the protocol asks of the
frontend; "lenient" only asks for no hang, no crash and a clean teardown
(used where the stock frontend is known not to follow the rule).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import InteropError


@dataclass(frozen=True)
class Scenario:
    name: str
    sets: tuple
    timeout: int            # seconds for the unit, a guest boot included
    dom0: str               # what dom0 does
    guest: str              # what the guest does
    expect: dict = field(default_factory=dict)   # frontend kind -> "strict" | "lenient"

    def mode(self, front: str) -> str:
        return self.expect.get(front, "strict")


SCENARIOS = [
    Scenario("attach-rw", ("fast", "all"), 420,
             "boots a guest with xvda (64 MiB file) attached; checks each write in the backing file",
             "loads the frontend; writes and reads back 4 KiB, 3 unaligned sectors, 4 MiB O_DIRECT in 1 MiB "
             "requests (indirect), 1 MiB buffered, the last sector; 4 parallel O_DIRECT writers/readers "
             "pinned to both vcpus"),
    Scenario("hot-detach", ("fast", "all"), 240,
             "xl block-attach xvdb, xl block-detach; checks the backing file and that both XenStore "
             "directories are gone",
             "waits for xvdb, writes and reads 2 MiB and the last 4 KiB, sees xvdb disappear"),
    Scenario("sector4k", ("all",), 240,
             "attaches a loop device with 4096-byte logical sectors (losetup --sector-size 4096) as xvdd",
             "checks size and logical block size 4096; O_DIRECT writes and reads at 4 KiB offsets; "
             "dom0 checks the bytes landed at the same offsets of the backing file"),
    Scenario("discard-flush", ("all",), 240,
             "checks the backend's discard and flush counters (stock backend) and the backing file",
             "blkdiscard of 2 MiB inside written data (the data around it must stay), a write with fsync "
             "and sync; reports whether the discarded range reads back as zeros"),
    Scenario("save-restore", ("fast", "all"), 600,
             "xl save then xl restore of the guest while it writes; checks every block the guest "
             "completed is in the backing file",
             "a background O_DIRECT writer/verifier of 256 KiB blocks keeps going across the restore; "
             "afterwards reads everything back"),
    Scenario("detach-open", ("all",), 300,
             "xl block-detach of xvdc while the guest has a file system mounted on it: the detach must "
             "not complete (the frontend stays Closing, I/O goes on); after the unmount both ends go "
             "Closed and a second detach removes the device",
             "mounts ext2 on xvdc with an I/O loop in it; unmounts once the toolstack gave up",
             expect={"ours": "strict", "stock": "lenient"}),
    Scenario("shutdown-cleanup", ("all",), 420,
             "xl shutdown, then a new guest destroyed with xl destroy during I/O; each time no backend "
             "directory, no zombie domain (grants still mapped), the backend module unloads, no "
             "WARN/BUG in dom0",
             "writes before the shutdown; runs a background writer when destroyed"),
    Scenario("features-off", ("all",), 900,
             "for each feature, reloads the serving backend with it switched off (module parameter, or "
             "xl's no-discard) and hot-attaches xvdf; checks the feature is off on both ends",
             "a short O_DIRECT and buffered write/read on xvdf for each feature"),
]

PAIRINGS = {  # name -> (frontend in the guest, backend in dom0)
    "ours-stock": ("ours", "stock"),
    "stock-ours": ("stock", "ours"),
    "ours-ours": ("ours", "ours"),
    "stock-stock": ("stock", "stock"),   # the control: Linux against itself
}
DEFAULT_PAIRINGS = ["ours-stock", "stock-ours", "ours-ours"]

# Module parameters of each frontend for every guest of a run.  Linux's own
# frontend asks for a one-page ring unless told otherwise; a 4-page ring puts
# the backends' multi-page code to work (features-off covers one page).
FRONT_PARAMS = {"stock": "max_ring_page_order=2", "ours": ""}

# How to switch each feature off on the serving (backend) side:
# "param:NAME=VALUE" a module parameter, "xl:WORD" a word of xl's disk spec,
# "-" no way (the result is SKIP, naming the missing knob).
FEATURES = ["persistent", "indirect", "multi-queue", "ring", "discard", "flush"]
KNOBS = {
    "stock": {"persistent": "param:feature_persistent=0", "indirect": "-", "multi-queue": "param:max_queues=1",
              "ring": "param:max_ring_page_order=0", "discard": "xl:no-discard", "flush": "-"},
    "ours": {"persistent": "param:persistent_grants=0", "indirect": "param:max_indirect_segments=0",
             "multi-queue": "param:multi_queue_max_queues=1", "ring": "param:max_ring_page_order=0",
             "discard": "xl:no-discard", "flush": "-"},
}


@dataclass(frozen=True)
class Unit:
    pairing: str
    front: str
    back: str
    scenario: str
    mode: str
    timeout: int


def by_name() -> dict[str, Scenario]:
    return {s.name: s for s in SCENARIOS}


def select(spec: str) -> list[Scenario]:
    """`fast`, `all`, or a comma-separated list of scenario names (table order kept)."""
    wanted = {w.strip() for w in spec.split(",") if w.strip()}
    if not wanted:
        raise InteropError("--scenario wants fast, all or scenario names")
    known = by_name()
    chosen = set()
    for w in wanted:
        if w in ("fast", "all"):
            chosen |= {s.name for s in SCENARIOS if w in s.sets}
        elif w in known:
            chosen.add(w)
        else:
            raise InteropError(f"unknown scenario '{w}' (known: fast, all, {', '.join(known)})")
    return [s for s in SCENARIOS if s.name in chosen]


def select_pairings(spec: str | None) -> list[str]:
    if not spec:
        return list(DEFAULT_PAIRINGS)
    names = [w.strip() for w in spec.split(",") if w.strip()]
    bad = [n for n in names if n not in PAIRINGS]
    if bad or not names:
        raise InteropError(f"unknown pairing '{','.join(bad)}' (known: {', '.join(PAIRINGS)})")
    return [p for p in PAIRINGS if p in names]


def plan(pairings: list[str], scenarios: list[Scenario]) -> list[Unit]:
    return [Unit(p, *PAIRINGS[p], s.name, s.mode(PAIRINGS[p][0]), s.timeout)
            for p in pairings for s in scenarios]


def plan_text(units: list[Unit], options: tuple = ()) -> str:
    """/xdg/plan: what dom0 runs, and the tables the scenarios read."""
    lines = [f"option {o}" for o in options]
    lines += [f"unit {u.pairing} {u.front} {u.back} {u.scenario} {u.mode} {u.timeout}" for u in units]
    lines += [f"front {k} {v}".rstrip() for k, v in FRONT_PARAMS.items()]
    lines += [f"knob {back} {feat} {how}" for back, knobs in KNOBS.items() for feat, how in knobs.items()]
    return "\n".join(lines) + "\n"
