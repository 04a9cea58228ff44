"""The spec elements the generated drivers name directly.

Most nodes and negotiations reach the drivers through the plan's tables
(features, negotiation, properties), so a spec may add, drop or rename them
freely.  These few are spelled by the transport plan and the templates: the
ring's references and event channel, the protocol, the toolstack's nodes a
driver reads to find its device, the ring-size negotiation, and the steps
(actions) the templates implement as functions.  The spec
checks require each of them, so a renamed one is a spec error with its
line, not a template failure.
"""
from __future__ import annotations

RING_REF = "ring-ref"
RING_REF_PATTERN = "ring-ref%u"
EVENT_CHANNEL = "event-channel"
QUEUE_DIR = "queue-%u"
PROTOCOL = "protocol"

# (directory side, name): what the drivers use it for, who writes it, and
# the sides whose drivers read it.
REQUIRED = {
    ("frontend", RING_REF): ("the grant reference of a one-page ring", "frontend", ("backend",)),
    ("frontend", RING_REF_PATTERN): ("the grant references of a multi-page ring", "frontend", ("backend",)),
    ("frontend", EVENT_CHANNEL): ("the event channel of each ring", "frontend", ("backend",)),
    ("frontend", QUEUE_DIR): ("the directory of each queue", "frontend", ("backend",)),
    ("frontend", PROTOCOL): ("the request layout the frontend writes", "frontend", ("backend",)),
    ("frontend", "device-type"): ("whether the device is a CD-ROM", "toolstack", ("frontend", "backend")),
    ("frontend", "trusted"): ("whether the frontend may trust its backend", "toolstack", ("frontend",)),
    ("frontend", "virtual-device"): ("the device number the toolstack gave", "toolstack", ("frontend",)),
    ("frontend", "virtual-device-ext"): ("the extended device number", "toolstack", ("frontend",)),
    ("backend", "mode"): ("whether the backend may write to the device", "toolstack", ("backend",)),
    ("backend", "online"): ("whether the toolstack still wants the device", "toolstack", ("backend",)),
    ("backend", "physical-device"): ("the backing device's number", "toolstack", ("backend",)),
    ("backend", "physical-device-path"): ("the backing device's path", "toolstack", ("backend",)),
    ("backend", "type"): ("the kind of backing store", "toolstack", ("backend",)),
    ("backend", "sectors"): ("the size of the disk", "backend", ("frontend",)),
    ("backend", "sector-size"): ("the logical block size", "backend", ("frontend",)),
    ("backend", "physical-sector-size"): ("the physical block size", "backend", ("frontend",)),
    ("backend", "discard-enable"): ("whether the toolstack lets the backend offer discards", "toolstack", ("backend",)),
    ("backend", "discard-secure"): ("whether discards erase securely", "backend", ("frontend",)),
}

# Negotiations the templates settle by name: what they decide.
REQUIRED_NEGOTIATIONS = {
    "ring_page_order": "the size of each ring",
}

# Actions the templates implement, one function each, called where the
# side's state machine does them: each must be declared and used.
REQUIRED_ACTIONS = {
    "probe_device": "frontend", "negotiate": "frontend", "publish_transport": "frontend",
    "read_device_properties": "frontend", "attach_disk": "frontend", "close_when_idle": "frontend",
    "stop_io": "frontend", "keep_in_flight": "frontend", "release_rings": "frontend",
    "open_backing": "backend", "publish_features": "backend", "map_rings": "backend",
    "publish_device_properties": "backend", "unmap_rings": "backend", "close_backing": "backend",
}
