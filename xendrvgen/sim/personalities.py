"""Peer personalities of `xendrvgen sim`: drivers that behave as real ones do.

Each is C written for the sim (templates/sim/peer_back.c.j2 and
peer_front.c.j2) from the documented behaviour of a real driver family,
not from its source: the XenStore nodes it publishes and when, which ring
scheme it reads, in which state it connects, how it closes.  They use Xen's
installed public io/blkif.h (backends) or the spec's per-ABI offsets
(frontends), never our generated headers, so they also check our layouts
from outside.  `traits` tells the scenarios what to expect of a pairing.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Personality:
    name: str
    side: str                      # 'frontend' | 'backend': the side it plays
    style: str
    template: str
    what: str                      # one line, for --help and the report
    behaviour: tuple               # what it does, documented driver behaviour in our words
    abi: str = "x86_64"            # frontends: the layout of their requests
    protocol_constant: str | None = None   # frontends: what they write to `protocol`, if anything
    traits: dict = field(default_factory=dict)

    @property
    def symbol(self) -> str:
        return "sim_peer_" + self.name.replace("-", "_")

    def flags(self) -> list[str]:
        return []


PERSONALITIES = (
    Personality(
        "linux-back", "backend", "linux", "sim/peer_back.c.j2",
        "a Linux-style backend (xen-blkback)",
        ("publishes max-ring-page-order, multi-queue-max-queues and feature-max-indirect-segments at probe, "
         "before InitWait; never the page-count scheme (max-ring-pages)",
         "reads several ring pages only when the frontend wrote ring-page-order, else the single ring-ref",
         "connects (maps, then publishes sectors, sector-size, info, flush, discard, feature-persistent 0 in "
         "one transaction, then Connected) when the frontend is Initialised or Connected",
         "goes Closing on the frontend's Closing and keeps serving; unmaps only on its Closed",
         "serves read, write, flush, discard and indirect requests; no barrier"),
        traits={"max_order": 4, "queues": 4, "indirect": True, "barrier": False, "discard": True,
                "persistent": False}),
    Personality(
        "freebsd-back", "backend", "freebsd", "sim/peer_back.c.j2",
        "a FreeBSD-style backend (xbb)",
        ("publishes the page-count ring scheme (max-ring-pages) and its own limits (max-requests, "
         "max-request-segments, max-request-size), flush and barrier, before InitWait",
         "accepts ring-page-order or num-ring-pages from the frontend",
         "connects only when it sees the frontend Initialised (a Connected frontend is not enough)",
         "no multi-queue, no indirect segments, no discard, no persistent grants"),
        traits={"max_order": 2, "queues": 1, "indirect": False, "barrier": True, "discard": False,
                "persistent": False}),
    Personality(
        "edk2-front", "frontend", "edk2", "sim/peer_front.c.j2",
        "an EDK2/Mini-OS-style frontend (XenPvBlkDxe)",
        ("one page ring, written as ring-ref with event-channel, protocol and state Connected in one "
         "transaction (it never shows Initialised)",
         "reads feature-flush-cache once the backend is Connected; no indirect, discard or barrier",
         "closes with Closing, then Closed once the backend follows, revokes the ring after the backend's "
         "Closed and hands the device back in Initialising"),
        protocol_constant="XEN_IO_PROTO_ABI_X86_64",
        traits={"closed": ("Initialising", "InitWait")}),
    Personality(
        "old-front", "frontend", "old", "sim/peer_front.c.j2",
        "an older frontend that writes no protocol node",
        ("one page ring (ring-ref, event-channel), no protocol node: the backend must assume its own layout",
         "Initialised, then Connected after the backend; no features beyond read and write (flush when offered)"),
        traits={}),
    Personality(
        "x86_32-front", "frontend", "x86_32", "sim/peer_front.c.j2",
        "a 32-bit x86 guest's frontend against this 64-bit backend",
        ("requests laid out as on x86_32 (108-byte slots, 4-byte aligned id), protocol x86_32-abi",
         "the backend must translate each request with the blkif_abi.h functions"),
        abi="x86_32", protocol_constant="XEN_IO_PROTO_ABI_X86_32",
        traits={}),
    Personality(
        "4k-front", "frontend", "4k", "sim/peer_front.c.j2",
        "a frontend on a disk of 4096-byte logical sectors (Linux blkfront's block-layer view)",
        ("at Connected takes sector-size as the disk's logical block and sectors, always in 512-byte units, as "
         "its size",
         "sends only whole logical blocks, aligned, each segment a whole page; refuses anything past the size "
         "it read, as the block layer does"),
        protocol_constant="XEN_IO_PROTO_ABI_X86_64",
        traits={}),
)

BY_NAME = {p.name: p for p in PERSONALITIES}


def names(side: str) -> list[str]:
    return [p.name for p in PERSONALITIES if p.side == side]
