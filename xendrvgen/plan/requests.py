"""The plan's request path and transport: the operations a backend serves and
the checks it applies to every request, the segment and indirect-page
limits, and the ring's references, event channel and protocol."""
from __future__ import annotations

from xendrvgen.spec import drivernames as dn
from .records import Check, Limit, OpPlan, Protocol, RequestPlan, Transport, ident
from .rules import OP_SEMANTICS, PlanError, SECTOR_SIZE, op_suffix


class Requests:
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
            if OP_SEMANTICS.get(op_suffix(c.name), {}).get("kind") == "indirect" and c.struct:
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
                 if OP_SEMANTICS.get(op_suffix(c.name), {}).get("kind") == "rw" and not c.feature]

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
            sem = OP_SEMANTICS.get(op_suffix(c.name))
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
