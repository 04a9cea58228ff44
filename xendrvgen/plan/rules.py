"""What the plan knows that the spec does not carry: the device class, the
meaning of each operation, the quantities a device reports, the hooks a user
fills in; kept small and checked against the spec by the builder."""
from __future__ import annotations

from functools import lru_cache

from xendrvgen.spec.model import XsNode
from .records import ident


DEVICE_TYPE = "vbd"         # xenbus class of blkif devices (device/vbd/N, backend/vbd/D/N)


SECTOR_SIZE = 512          # the unit of first_sect/last_sect and, by default, of sector numbers


class PlanError(Exception):
    """The spec cannot be turned into a driver plan (e.g. a state machine loops)."""


# ---------------------------------------------------------------------------
# Fixed knowledge the spec does not carry (kept small, and checked against it)
# ---------------------------------------------------------------------------
# What each known operation does, by the suffix of its constant name.  An
# operation of the spec not listed here is answered "not supported" and
# listed as a hook, so a new opcode never breaks generation.
OP_SEMANTICS = {
    "READ": dict(kind="rw", data="in", writes=False, min_segments=1),
    "WRITE": dict(kind="rw", data="out", writes=True, min_segments=1),
    # A barrier or a flush may carry data (a FUA write) or none (a pure flush).
    "WRITE_BARRIER": dict(kind="barrier", data="out", writes=True, min_segments=0),
    "FLUSH_DISKCACHE": dict(kind="flush", data="out", writes=True, min_segments=0),
    "DISCARD": dict(kind="discard", data="none", writes=True, min_segments=None),
    "INDIRECT": dict(kind="indirect", data="per-inner", writes=False, min_segments=1),
}


# Backend nodes whose value is a property of the opened backing store.
DEVICE_QUANTITIES = {
    "sectors": "capacity",                     # in request sector units
    "sector-size": "logical_block_size",       # 512 unless large sectors were offered
    "physical-sector-size": "physical_block_size",
    "info": "info_flags",                      # VDISK_* bits
    "discard-granularity": "discard_granularity",
    "discard-alignment": "discard_alignment",
    "discard-secure": "secure_erase",
    "feature-flush-cache": "flush_support",
    "feature-barrier": "barrier_support",
    "feature-discard": "discard_support",
}


# Vendor-extension limits a side publishes: the lesser of what this quantity
# of its own is and what the other end published under the same name.
EXTENSION_QUANTITIES = {
    "max-requests": "ring_slots",                 # requests the ring holds
    "max-request-segments": "max_direct_segments",
    "max-request-size": "max_direct_bytes",
}


# Negotiations whose meaning the templates implement; any other one is
# settled and published generically, and using it is a hook.
KNOWN_NEGOTIATIONS = ("ring_page_order", "queues", "indirect_segments", "persistent_grants",
                      "flush", "barrier", "discard", "large_sectors")


# Nodes that may stand in for one another: a driver needs one of each group.
# (The disk number in virtual-device or, failing that, virtual-device-ext; the
# backing device as MAJOR:MINOR or as a path.)
ALTERNATIVES = (("virtual-device", "virtual-device-ext"), ("physical-device", "physical-device-path"))


# Toolstack nodes without a default that a side cannot work without.
NEEDED_CONFIG = ("mode",)


# Our own offer where we publish the offer of a both/offered rule.  Large
# sectors default to off: the frontend then always counts in 512-byte units,
# which is what backends that ignore the node (Linux's) assume too.
LOCAL_OFFERS = {"large_sectors": 0}


# Hooks that every OS's pair leaves to the user, whatever the spec says.
BASE_HOOKS = (
    ("frontend", "vdev_name", "probe_device",
     "Map the virtual-device number to the OS's disk name and minor for encodings other than "
     "Xen's own xvd forms (IDE hd*, SCSI sd*), as described in Xen's docs/misc/vbd-interface.",
     "xvd-style names in the order of the decoded disk index"),
    ("frontend", "resize", "read_device_properties",
     "Watch the backend's sectors node after connecting and resize the disk when it changes.",
     "the size read at connect time is kept"),
    ("frontend", "cdrom", "attach_disk",
     "CD-ROM media change and eject handling for device-type cdrom / VDISK_CDROM disks.",
     "the disk is marked removable and read-only media are honoured"),
    ("backend", "backing_object", "open_backing",
     "Open backing stores that are not block devices (type file or tap): a kernel backend serves "
     "block devices only, so the hotplug script must provide one.",
     "only physical-device (MAJOR:MINOR) or physical-device-path naming a block device is opened"),
    ("backend", "sector_emulation", "publish_device_properties",
     "Serve requests that are not aligned to the backing store's logical block (read-modify-write), for "
     "frontends that ignore sector-size when the store's blocks are larger than 512 bytes.",
     "such requests are answered BLKIF_RSP_ERROR"),
    ("backend", "hot_unplug", "unmap_rings",
     "Unregister the device from the toolstack side when the frontend closed and the device is offline.",
     "the backend stays registered in Closed, ready for a reconnect"),
)


def node_field(n: XsNode) -> str:
    return f"{'fe' if n.side == 'frontend' else 'be'}_{ident(n.name)}"


def spec_position(mark) -> str:
    """'specs/blkif.yaml:123': the same on every machine (see paths.spec_display_name)."""
    if not mark:
        return ""
    name = display_name(mark.file)
    return f"{name}:{mark.line}" if mark.line else name


@lru_cache(maxsize=64)
def display_name(file: str) -> str:
    from xendrvgen.base.paths import spec_display_name
    return spec_display_name(file)


def op_suffix(name: str) -> str:
    return name.removeprefix("BLKIF_OP_")


def order_by_defaults(nodes: list) -> list:
    names = {(n.node_side, n.name) for n in nodes}
    out: list = []
    placed: set = set()
    pending = list(nodes)
    while pending:
        progressed = False
        for n in list(pending):
            dep = n.default
            need = (dep.side, dep.name) if dep is not None and dep.kind == "node" else None
            if need is None or need not in names or need in placed:
                out.append(n)
                placed.add((n.node_side, n.name))
                pending.remove(n)
                progressed = True
        if not progressed:                  # a cycle: keep spec order for the rest
            out.extend(pending)
            break
    return out
