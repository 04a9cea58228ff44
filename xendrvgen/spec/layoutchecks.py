"""Semantic checks of a spec's memory layouts: every struct's per-ABI table
against the natural C layout of its fields, and the ring's size, entries and
padding on every ABI."""
from __future__ import annotations

from xendrvgen.base.diagnostics import Collector
from .model import C_BASE_TYPES, Spec, did_you_mean


def check_layouts(spec: Spec, d: Collector) -> None:
    abis = spec.abi_names
    for s in spec.structs:
        ctx = f"struct '{s.name}'"
        for abi in abis:
            if abi not in s.layouts:
                d.error(f"has no layout for ABI '{abi}'", s.mark, ctx)
        for abi, lay in s.layouts.items():
            errors_before = len(d.errors())
            if abi not in abis:
                d.error(f"has a layout for undeclared ABI '{abi}'", lay.mark, ctx)
                continue
            if lay.size % lay.align:
                d.error(f"{abi}: size {lay.size} is not a multiple of its alignment {lay.align}", lay.mark, ctx)
            names = {f.name for f in s.fields}
            for fname in lay.offsets:
                if fname not in names:
                    d.error(f"{abi}: offset given for unknown field '{fname}'{did_you_mean(fname, names)}",
                            lay.mark, ctx)
            prev_end = 0
            for f in s.fields_on(abi):
                if f.name not in lay.offsets:
                    d.error(f"{abi}: no offset for field '{f.name}'", lay.mark, ctx)
                    continue
                off = lay.offsets[f.name]
                size = _field_size(spec, f, abi)
                if off < prev_end:
                    d.error(f"{abi}: field '{f.name}' at offset {off} overlaps the field before it "
                            f"(which ends at {prev_end})", lay.mark, ctx)
                if size is not None:
                    prev_end = off + size
                    if prev_end > lay.size:
                        d.error(f"{abi}: field '{f.name}' ends at {prev_end}, past the struct size {lay.size}",
                                lay.mark, ctx)
            for f in s.fields:
                if not f.present_on(abi) and f.name in lay.offsets:
                    d.error(f"{abi}: field '{f.name}' is not present on this ABI but has an offset",
                            lay.mark, ctx)
            if len(d.errors()) == errors_before:     # one finding per layout, not a cascade
                _natural_layout(spec, s, abi, lay, d, ctx)


def _round_up(n: int, align: int) -> int:
    return -(-n // align) * align


def _field_align(spec: Spec, f, abi: str) -> int | None:
    if f.is_struct:
        st = spec.struct(f.base)
        return st.layouts[abi].align if st and abi in st.layouts else None
    size = C_BASE_TYPES.get(f.base)
    # The i386 System V ABI aligns 8-byte integers to 4 inside structs.
    return None if size is None else min(size, 4) if abi == "x86_32" else size


def _natural_layout(spec: Spec, s, abi: str, lay, d: Collector, ctx: str) -> None:
    """The table agrees with how C lays out the fields on this ABI (the
    generated headers assert exactly that, so a gap or a wrong size would
    only show as a failed build)."""
    end, align = 0, 1
    if any(f.count_ref and not f.count for f in s.fields):
        return                           # an array length the reference checks reject
    for f in s.fields_on(abi):
        a, size, off = _field_align(spec, f, abi), _field_size(spec, f, abi), lay.offsets.get(f.name)
        if a is None or size is None or off is None:
            return                       # reported above, or by the reference checks
        if off != _round_up(end, a):
            d.error(f"{abi}: field '{f.name}' is at offset {off}, but C places it at {_round_up(end, a)} "
                    "after the fields before it (a missing, extra or resized field?)", lay.mark, ctx)
            return
        end, align = off + size, max(align, a)
    if lay.align != align or lay.size != _round_up(end, align):
        d.error(f"{abi}: size {lay.size} and alignment {lay.align}, but C makes the fields "
                f"{_round_up(end, align)} bytes aligned to {align}", lay.mark, ctx)


def _field_size(spec: Spec, f, abi: str) -> int | None:
    if f.is_struct:
        st = spec.struct(f.base)
        one = st.layouts[abi].size if st and abi in st.layouts else None
    else:
        one = C_BASE_TYPES.get(f.base)
    if one is None:
        return None
    return one * (f.count or 1)


def check_ring(spec: Spec, d: Collector) -> None:
    r = spec.ring
    req, rsp = spec.struct(r.request), spec.struct(r.response)
    for what, st, name in (("request", req, r.request), ("response", rsp, r.response)):
        if st is None:
            d.error(f"the ring's {what} '{name}' is not a struct", r.mark, f"ring '{r.name}'")
    if req is None or rsp is None:
        return
    for abi in spec.abi_names:
        lay = r.layouts.get(abi)
        if lay is None:
            d.error(f"has no layout for ABI '{abi}'", r.mark, f"ring '{r.name}'")
            continue
        if abi not in req.layouts or abi not in rsp.layouts:
            continue
        entry = max(req.layouts[abi].size, rsp.layouts[abi].size,
                    *(k.layouts[abi].size for k in spec.request_kinds() if k and abi in k.layouts))
        if lay.entry_size != entry:
            d.error(f"{abi}: entry_size is {lay.entry_size}, but the largest request or response is {entry} bytes",
                    lay.mark, f"ring '{r.name}'")
        per_page = _pow2_floor((r.page_size - r.header_size) // lay.entry_size)
        if lay.entries_per_page != per_page:
            d.error(f"{abi}: entries_per_page is {lay.entries_per_page}, but a {r.page_size}-byte page "
                    f"holds {per_page} entries of {lay.entry_size} bytes after the {r.header_size}-byte header",
                    lay.mark, f"ring '{r.name}'")


def _pow2_floor(n: int) -> int:
    return 1 << (n.bit_length() - 1) if n > 0 else 0
