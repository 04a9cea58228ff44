"""The spec's structs compared with a header's, ABI by ABI, as wire leaves:
which bytes at which offset carry which field of which type, whatever the
copy's shape (a union of request kinds, differently named members)."""
from __future__ import annotations

from xendrvgen.base.diagnostics import MISMATCH, NOTE, SpecError
from xendrvgen.spec.model import C_BASE_TYPES, Struct
from .report import header_position


def _spell(ctype: str, dims) -> str:
    return ctype + "".join(f"[{d}]" for d in dims)


class StructChecks:
    # -- structs -----------------------------------------------------------
    def structs(self):
        for s in self.spec.structs:
            for abi in self.abis:
                self.struct_on(s, abi)
        self.res.compared["structs"] = len(self.spec.structs)

    def _spec_leaves(self, s: Struct, abi: str) -> list[tuple]:
        lay = s.layouts[abi]
        leaves = []
        for f in s.fields_on(abi):
            one = (self.spec.struct(f.base).layouts[abi].size if f.is_struct else C_BASE_TYPES[f.base])
            ctype = f"struct {f.base}" if f.is_struct else f.base
            leaves.append((lay.offsets[f.name], one * (f.count or 1), ctype,
                           (f.count,) if f.count else (), f))
        return leaves

    def struct_on(self, s: Struct, abi: str):
        facts = self.facts
        ctx = f"struct '{s.name}'"
        kind = facts.profile.request_kinds.get(s.name)
        layouts = facts.layouts[abi]
        from xendrvgen.headers import wire
        if kind is not None:
            try:
                leaves = facts.wire_map(s.name, abi)
            except SpecError as e:
                self.add(MISMATCH, s.mark, ctx, e.diagnostics[0].message, abi)
                return
            top = layouts.get(kind.struct)
            selected = bool(kind.select)
        else:
            top = layouts.get(s.name)
            if top is None:
                self.add(MISMATCH, s.mark, ctx, "the header does not declare this struct", abi)
                return
            leaves = wire.wire_map(layouts, s.name, None, facts.profile.padding)
            selected = False
        lay = s.layouts[abi]
        where = header_position(facts, top.line if top else None)
        if not selected and top is not None:
            if top.size != lay.size:
                self.add(MISMATCH, lay.mark, ctx, f"size: spec {lay.size}, header {top.size} ({where})", abi)
            if top.align != lay.align:
                self.add(MISMATCH, lay.mark, ctx, f"alignment: spec {lay.align}, header {top.align} ({where})", abi)
        elif top is not None:
            ring_req = self.spec.struct(self.spec.ring.request)
            want = ring_req.layouts[abi].size
            if top.size != want:
                self.add(MISMATCH, lay.mark, ctx,
                         f"size of the ring request: spec {want}, header {top.size} "
                         f"('{kind.struct}', {where})", abi)
        by_name = {}
        for leaf in leaves:
            by_name.setdefault(leaf.name, leaf)
        matched = set()
        for off, size, ctype, dims, f in self._spec_leaves(s, abi):
            fctx = f"struct '{s.name}' field '{f.name}'"
            h = by_name.get(f.name)
            if h is not None and id(h) not in matched:
                # Same name: offset, type and extent must agree.
                matched.add(id(h))
                diffs = []
                if h.offset != off:
                    diffs.append(f"offset: spec {off}, header {h.offset}")
                if h.type != ctype or tuple(h.dims) != tuple(dims) or h.size != size:
                    diffs.append(f"type: spec {_spell(ctype, dims)} ({size} bytes), "
                                 f"header {_spell(h.type, h.dims)} ({h.size} bytes)")
                if diffs:
                    self.add(MISMATCH, f.mark, fctx, "; ".join(diffs), abi)
                continue
            # Not by name: whatever the header puts at the same offset.
            h = next((x for x in leaves if x.offset == off and id(x) not in matched
                      and x.name not in {g.name for g in s.fields}), None)
            if h is None:
                if f.padding:
                    self.add(NOTE, f.mark, fctx, f"padding at offset {off} is absent from the header", abi)
                else:
                    self.add(MISMATCH, f.mark, fctx, f"not in the header (spec: {ctype} at offset {off})", abi)
                continue
            matched.add(id(h))
            if h.type != ctype or tuple(h.dims) != tuple(dims) or h.size != size:
                self.add(MISMATCH, f.mark, fctx,
                         f"at offset {off}: spec {_spell(ctype, dims)} '{f.name}', "
                         f"header {_spell(h.type, h.dims)} '{h.path}'", abi)
            elif h.padding or f.padding:
                self.add(NOTE, f.mark, fctx, f"the header calls this field '{h.path}' (padding)", abi)
            else:
                self.add(MISMATCH, f.mark, fctx, f"name at offset {off}: spec '{f.name}', header '{h.path}'", abi)
        for leaf in leaves:
            if id(leaf) in matched:
                continue
            msg = f"the header has '{leaf.path}' ({_spell(leaf.type, leaf.dims)}) at offset {leaf.offset}"
            if leaf.padding:
                self.add(NOTE, s.mark, ctx, msg + ", padding the spec does not list", abi)
            else:
                self.add(MISMATCH, s.mark, ctx, msg + ", which the spec lacks", abi)
