"""The OS-agnostic decisions of a blkfront/blkback pair, computed once.

Every OS's driver templates need the same answers: which XenStore nodes a side
reads (with the spec's default and the limits to clamp to) and writes (in which
state, from what value), how each negotiated value is settled, what a side does
when the other end changes state, which checks the backend applies to every
request, and what is deliberately left for the user to fill in.  `build(spec)`
derives all of it from the spec and returns a `Plan` of frozen dataclasses; a
template only spells these answers in its OS's kernel API and decides nothing.

`Plan.as_dict()` gives the same data as plain JSON-able values (printed by
`xendrvgen plan`), which is the easiest way to see what a template receives.

Derivation rules that the spec does not state in so many words are written
down here, once, next to the code that applies them:

* A node is read by the side listed in its `readers` and written by its
  `writer`.  Nodes live in the directory of their `side`; for a driver that is
  either its own directory or the other end's.
* Reads happen in the action that starts the startup transition fired when the
  other end reaches the node's `published_in` state (nodes without one, i.e.
  toolstack nodes, are read by the first action taken at probe).  Writes happen
  in the `publish_*` action of the startup transition that enters the node's
  `published_in` state.
* A limit that names a node (`max: {node: ...}`) names the peer's offer: the
  node of that name in the other directory.  A default that names a node names
  one in the same directory.
* Values the other end decides that shape shared memory (the `accept` node of a
  `min` negotiation and its legacy twin) are rejected when out of range, since
  clamping them would disagree with what the peer allocated; every other value
  read from the peer is clamped.
* Accept nodes of `min` negotiations are written only when the value differs
  from the node's default, which old peers read as absence (so a one-page ring
  is announced with `ring-ref` alone and one queue without `queue-%u`).
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from xendrvgen.spec import drivernames as dn, nodenames
from xendrvgen.spec.model import ConstRef, NodeRef, Spec, StateMachine, Transition, XsNode, other_side
from .records import (
    Limit,
    NodeUse,
    Legacy,
    NegotiationPlan,
    Step,
    Reaction,
    MachinePlan,
    EventPlan,
    Check,
    OpPlan,
    RequestPlan,
    Protocol,
    Transport,
    Hook,
    Param,
    Decision,
    SidePlan,
    Plan,
    ident,
)

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


def _field(n: XsNode) -> str:
    return f"{'fe' if n.side == 'frontend' else 'be'}_{ident(n.name)}"


def _where(mark) -> str:
    """'specs/blkif.yaml:123': the same on every machine (see paths.spec_display_name)."""
    if not mark:
        return ""
    name = _display(mark.file)
    return f"{name}:{mark.line}" if mark.line else name


@lru_cache(maxsize=64)
def _display(file: str) -> str:
    from xendrvgen.base.paths import spec_display_name
    return spec_display_name(file)


# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
class _Builder:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.transport_names = {"ring_ref": dn.RING_REF, "protocol": dn.PROTOCOL}
        # (directory side, node name) -> [(negotiation name, role as the owner of that directory)]
        self.neg_roles: dict = {}

        def add(side, name, neg, role):
            self.neg_roles.setdefault((side, name), []).append((neg, role))
        for g in spec.negotiation:
            deciders = ("frontend", "backend") if g.decider == "both" else (g.decider,)
            for dec in deciders:
                add(other_side(dec), g.offer, g.name, "offer")
                if g.accept and g.rule == "min":
                    add(dec, g.accept, g.name, "accept")
                if g.legacy:
                    add(other_side(dec), g.legacy["offer"], g.name, "legacy_offer")
                    add(dec, g.legacy["accept"], g.name, "legacy_accept")
            for w in g.with_nodes:
                add(g.offered_by if g.decider != "backend" else "frontend", w, g.name, "with")

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
                formula=formula, where=_where(g.mark)))
        return tuple(out)

    # -- requests ------------------------------------------------------------
    def seg_struct(self):
        req = self.spec.struct(self.spec.ring.request)
        f = next((f for f in req.fields if f.is_struct and f.count), None) if req else None
        return (self.spec.struct(f.base) if f else None), f

    def segments_per_indirect_page(self) -> int:
        st, _ = self.seg_struct()
        if st is None:
            return 0
        sizes = {l.size for l in st.layouts.values()}
        if len(sizes) != 1:
            raise PlanError(f"struct '{st.name}' differs in size between ABIs; indirect pages cannot be shared")
        return self.spec.ring.page_size // sizes.pop()

    def indirect_struct(self):
        """The wire struct of the operation whose semantics are 'indirect' (blkif_request_indirect)."""
        for c in self.spec.constants_in("operation"):
            if OP_SEMANTICS.get(_op_suffix(c.name), {}).get("kind") == "indirect" and c.struct:
                return self.spec.struct(c.struct)
        return None

    def indirect_pages_field(self):
        ind = self.indirect_struct()
        return next((f for f in ind.fields if f.count_ref), None) if ind is not None else None

    def indirect_hard_max(self) -> int:
        f = self.indirect_pages_field()
        pages = f.count if f is not None and f.count else 0
        return pages * self.segments_per_indirect_page()

    def requests(self, negs: tuple) -> RequestPlan:
        spec = self.spec
        status = {c.name: c.value for c in spec.constants_in("status")}

        def status_named(suffix: str, value: int) -> str:
            hit = next((n for n in status if n.endswith(suffix)), None)
            return hit or next((n for n, v in status.items() if v == value), f"({value})")
        ok, err, unsup = status_named("_OKAY", 0), status_named("_ERROR", -1), status_named("_EOPNOTSUPP", -2)
        seg_st, seg_field = self.seg_struct()
        max_direct = Limit("const", seg_field.count, seg_field.count_ref) if seg_field else Limit("int", 0)
        ind_f = self.indirect_pages_field()
        max_pages = Limit("const", ind_f.count, ind_f.count_ref) if ind_f else Limit("int", 0)
        sectors_per_page = spec.ring.page_size // SECTOR_SIZE
        neg_by_feature = {n.feature: n for n in negs if n.feature}
        base_ops = [c for c in spec.constants_in("operation")]
        plain = [c.name for c in base_ops
                 if OP_SEMANTICS.get(_op_suffix(c.name), {}).get("kind") == "rw" and not c.feature]

        common = (
            Check("copy_once", "the request slot is copied out of the shared ring once; every later "
                  "look at it uses the private copy (XSA-155)", None, None, err),
            Check("opcode_known", "the operation is one this backend knows and has offered; otherwise "
                  f"the answer is {unsup}", "operation", None, unsup),
        )
        seg_checks = (
            Check("first_le_last", "first_sect <= last_sect", "first_sect", None, err),
            Check("last_in_page", f"last_sect < sectors per page ({sectors_per_page} of {SECTOR_SIZE} bytes, "
                  "or page size / sector-size with large sectors)", "last_sect",
                  Limit("int", sectors_per_page), err),
            Check("gref_mapped", "the grant maps (a bad grant reference fails the request, not the backend)",
                  "gref", None, err),
        )
        ops = []
        for c in base_ops:
            sem = OP_SEMANTICS.get(_op_suffix(c.name))
            struct = c.struct or next((s.name for s in spec.structs if c.name in s.operations), spec.ring.request)
            neg = neg_by_feature.get(c.feature) if c.feature else None
            desc = c.description
            if c.reserved or sem is None:
                ops.append(OpPlan(c.name, c.value, struct, "unsupported", "none", c.feature,
                                  neg.name if neg else None, False, None, None, (), (
                                      Check("unsupported", f"{c.name} is answered {unsup}", "operation", None, unsup),),
                                  c.reserved, None if c.reserved else f"op_{ident(c.name)}", desc))
                continue
            checks: list[Check] = []
            if neg is not None:
                checks.append(Check("feature_offered", f"only when this backend offered {neg.offer} "
                                    f"(negotiation '{neg.name}'); otherwise {unsup}", "operation",
                                    Limit("negotiated", None, neg.name), unsup))
            if sem["writes"]:
                checks.append(Check("writable", "refused on a read-only device (mode is not w)", "operation", None, err))
            max_seg: Limit | None = None
            inner: tuple = ()
            kind = sem["kind"]
            if kind in ("rw", "barrier", "flush"):
                max_seg = max_direct
                lo = sem["min_segments"]
                checks.append(Check("nr_segments", f"{lo} <= nr_segments <= {max_direct.name} "
                                    f"({max_direct.value})", "nr_segments", max_direct, err))
                checks.extend(seg_checks)
                checks.append(Check("sector_range", "sector_number + the sectors of all segments stays within "
                                    "the device (no overflow)", "sector_number", Limit("node", None, "sectors", "backend"), err))
                checks.append(Check("block_aligned", "start and length are multiples of the backing store's "
                                    "logical block size", "sector_number", None, err))
            elif kind == "discard":
                flags = tuple(x.name for x in spec.constants_in("discard_flag"))
                checks.append(Check("discard_flags", f"flag has no bits beyond {' | '.join(flags) or '0'}; "
                                    "a secure discard only when discard-secure was offered", "flag", None, err))
                checks.append(Check("sector_range", "sector_number + nr_sectors stays within the device "
                                    "(no overflow)", "sector_number", Limit("node", None, "sectors", "backend"), err))
            elif kind == "indirect":
                inner = tuple(plain)
                max_seg = Limit("negotiated", None, neg.name if neg else "indirect_segments")
                checks.append(Check("indirect_op", f"indirect_op is one of {', '.join(inner)}", "indirect_op", None, err))
                checks.append(Check("inner_writable", "an inner operation that writes is refused on a read-only "
                                    "device (mode is not w)", "indirect_op", None, err))
                checks.append(Check("nr_segments", "1 <= nr_segments <= the feature-max-indirect-segments "
                                    "this backend published", "nr_segments", max_seg, err))
                checks.append(Check("indirect_pages", f"the segment pages needed, ceil(nr_segments / "
                                    f"{self.segments_per_indirect_page()}), are at most {max_pages.name} "
                                    f"({max_pages.value})", "indirect_grefs", max_pages, err))
                checks.append(Check("indirect_copy", "the segment descriptors are copied out of the mapped "
                                    "indirect pages once, then checked like direct segments", None, None, err))
                checks.extend(seg_checks)
                checks.append(Check("sector_range", "sector_number + the sectors of all segments stays within "
                                    "the device (no overflow)", "sector_number", Limit("node", None, "sectors", "backend"), err))
                checks.append(Check("block_aligned", "start and length are multiples of the backing store's "
                                    "logical block size", "sector_number", None, err))
            ops.append(OpPlan(c.name, c.value, struct, kind, sem["data"], c.feature,
                              neg.name if neg else None, sem["writes"], sem["min_segments"], max_seg, inner,
                              tuple(checks), False, None, desc))
        return RequestPlan(
            ops=tuple(ops), status_ok=ok, status_error=err, status_unsupported=unsup,
            sector_size=SECTOR_SIZE, sectors_per_page=sectors_per_page,
            segment_struct=seg_st.name if seg_st else "", segments_per_indirect_page=self.segments_per_indirect_page(),
            max_direct_segments=max_direct, max_indirect_pages=max_pages,
            indirect_hard_max=self.indirect_hard_max(), segment_checks=seg_checks, common_checks=common,
            discard_flags=tuple(x.name for x in spec.constants_in("discard_flag")),
            copy_rule="copy the whole slot (in the frontend's ABI) into private memory with one copy and a "
                      "compiler barrier, translate from that copy, and never read the slot again")

    # -- transport -----------------------------------------------------------
    def transport(self) -> Transport:
        spec = self.spec
        fe = [n for n in spec.nodes_of("frontend")]
        protos = []
        for c in spec.constants_in("protocol"):
            abis = tuple(a.name for a in spec.abis if a.protocol == c.name)
            variant = next((v for v, a in spec.abi_variants if a in abis), None)
            protos.append(Protocol(c.name, str(c.value), abis, variant))
        proto_node = spec.node("frontend", dn.PROTOCOL)
        return Transport(
            page_size=spec.ring.page_size, ring_header_size=spec.ring.header_size,
            entries_per_page={abi: l.entries_per_page for abi, l in spec.ring.layouts.items()},
            ring_ref=dn.RING_REF, ring_ref_pattern=dn.RING_REF_PATTERN, event_channel=dn.EVENT_CHANNEL,
            queue_dir=dn.QUEUE_DIR, per_queue=tuple(n.name for n in fe if n.per_queue),
            protocol_node=dn.PROTOCOL, protocols=tuple(protos),
            native_default=str(proto_node.default) if proto_node and proto_node.default else "native")

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
                counterpart = _field(peer)
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
                value = ("pages_of", _field(self.spec.node(n.side, g.offer)))
            elif source == "offer":
                value = ("param", negs[neg_name].param if neg_name in negs else ident(n.name))
            elif source in ("device", "extension"):
                value = ("quantity", quantity)
            else:
                value = ("default",)
        return NodeUse(
            name=n.name, ident=ident(n.name), field=_field(n),
            node_side=n.side, dir="own" if n.side == me else "otherend", type=n.type,
            default=self.limit(n.default, n, True), min=self.limit(n.min, n, False),
            max=self.limit(n.max, n, False), on_range=on_range, values=tuple(n.values), bits=bits,
            shape=shape, action=action, published_in=n.published_in, writer=n.writer, feature=n.feature,
            negotiation=neg_name, role=role, source=source, condition=condition, quantity=quantity,
            extension=n.extension, vendor=n.vendor, deprecated=n.deprecated, private=n.private,
            description=n.description, where=_where(n.mark), macro=nodenames.node_macro(n),
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
        reads = _order_by_defaults(reads)
        return tuple(reads), tuple(writes)

    # -- state machines ------------------------------------------------------
    def local_step(self, m: StateMachine, own: str) -> Transition | None:
        cands = [t for t in m.transitions if t.local and own in t.sources]
        cands.sort(key=lambda t: t.kind == "skip")
        return cands[0] if cands and cands[0].kind != "skip" else None

    def step(self, t: Transition) -> Step:
        return Step(t.to, t.do, t.kind, t.local, t.description, _where(t.mark))

    def follow_local(self, m: StateMachine, cur: str, steps: list, seen: set) -> str:
        while True:
            t = self.local_step(m, cur)
            if t is None:
                return cur
            if t.to in seen:
                raise PlanError(f"{m.side} state machine: local steps loop at '{t.to}'")
            seen.add(t.to)
            steps.append(self.step(t))
            cur = t.to

    def probe_steps(self, m: StateMachine) -> tuple:
        steps: list = []
        restart = [t for t in m.transitions if t.to == m.initial and t.kind == "reconnect"]
        acts: list = []
        for t in restart:
            # At probe nothing is held yet: a restart's teardown has nothing to do.
            acts.extend(a for a in t.do if a not in acts and self.spec.action(a).ring is None)
        if acts:
            steps.append(Step(m.initial, tuple(acts), "startup", True,
                              "What a restart does, done once at probe.", _where(restart[0].mark)))
        self.follow_local(m, m.initial, steps, {m.initial})
        return tuple(steps)

    def cell(self, m: StateMachine, own: str, other: str) -> Reaction:
        if other in m.ignores:
            return Reaction(own, other, (), "ignored")
        steps: list = []
        seen = {own}
        used: list = []
        cur = own
        while True:
            t = m.reaction(cur, other)
            if t is None or t in used:      # a transition fires once per change of the other end
                break
            used.append(t)
            if t.to in seen and t.to != cur:
                # Back where we started: stop rather than loop.
                steps.append(self.step(t))
                cur = t.to
                break
            steps.append(self.step(t))
            cur = t.to
            seen.add(cur)
            cur = self.follow_local(m, cur, steps, seen)
            if len(steps) > 4 * len(self.spec.states):
                raise PlanError(f"{m.side} state machine loops on the other end's state '{other}'")
            if t.to == own:
                break
        return Reaction(own, other, tuple(steps), "transition" if steps else "no transition from this state")

    def event_cell(self, m: StateMachine, own: str, event: str) -> Reaction:
        t = m.on_event(own, event)
        if t is None:
            return Reaction(own, event, (), "no transition from this state")
        steps = [self.step(t)]
        self.follow_local(m, t.to, steps, {own, t.to})
        return Reaction(own, event, tuple(steps), "transition")

    def machine(self, side: str) -> MachinePlan:
        m = self.spec.machine(side)
        states = sorted(self.spec.states, key=lambda s: s.value)
        own_states = tuple(m.states())
        table = tuple((s.name, tuple(self.cell(m, own, s.name) for own in own_states)) for s in states)
        local = {}
        for own in own_states:
            t = self.local_step(m, own)
            if t is not None:
                local[own] = self.step(t)
        used: list = []
        for t in m.transitions:
            for a in t.do:
                if a not in used:
                    used.append(a)
        events = tuple(
            EventPlan(e, self.spec.event(side, e).description, self.spec.event(side, e).forced,
                      tuple(self.event_cell(m, own, e) for own in own_states))
            for e in m.events())
        return MachinePlan(
            side=side, initial=m.initial, own_states=own_states, events=events,
            ring_in_use=tuple(m.ring_in_use),
            other_states=tuple(s.name for s in states), state_values={s.name: s.value for s in states},
            ignores=tuple(m.ignores), table=table, probe=self.probe_steps(m), local=local,
            tolerated=tuple(self.step(t) for t in self.spec.machine(other_side(side)).transitions if t.kind == "skip"),
            actions=tuple((a, self.spec.action(a).description) for a in used))

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

    # -- all -----------------------------------------------------------------
    def build(self) -> Plan:
        negs = self.negotiation()
        neg_by = {n.name: n for n in negs}
        req = self.requests(negs)
        sides = {}
        for side in ("frontend", "backend"):
            reads, writes = self.side_nodes(side, neg_by)
            decisions, params = self.decisions(side, negs, reads, writes)
            mach = self.machine(side)
            hooks = self.hooks(side, reads, writes, req, negs)
            sides[side] = SidePlan(side, reads, writes, decisions, params, mach, hooks,
                                   tuple(a for a, _ in mach.actions))
        return Plan(_display(self.spec.file), self.spec.sha256, DEVICE_TYPE, sides["frontend"], sides["backend"], negs, req,
                    self.transport(), (*sides["frontend"].hooks, *sides["backend"].hooks))


def _op_suffix(name: str) -> str:
    return name.removeprefix("BLKIF_OP_")


def _order_by_defaults(nodes: list) -> list:
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


def build(spec: Spec) -> Plan:
    """The driver plan of a checked spec."""
    return _Builder(spec).build()
