"""Wire maps: a record layout flattened to the bytes it puts on the ring.

A leaf is a scalar field, a pointer, or an array (arrays of structs stay one
leaf whose element struct is compared on its own).  Struct members are
descended into; a union is descended into only through the member a
selector names, otherwise it stays one opaque leaf.  This lets Xen's
separate request structs and Linux's one struct with a union per kind be
compared leaf by leaf.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from xendrvgen.base.diagnostics import Mark, SpecError, error
from .recordlayout import FieldLayout, RecordLayout
from .profiles import Profile


@dataclass(frozen=True)
class WireLeaf:
    offset: int               # bytes from the start of the top record
    size: int                 # bytes (the whole array for arrays)
    type: str                 # canonical element type: "uint64_t", "struct blkif_request_segment"
    path: str                 # dotted field path: "u.rw.id"
    dims: tuple[int, ...]     # array dimensions, outermost first
    padding: bool = False     # the field's own name matches the profile's padding regex
    bit_offset: int | None = None   # bit-fields only, in bits from the top record
    bit_width: int | None = None

    @property
    def name(self) -> str:
        """The last component of the path (the field's own name)."""
        return self.path.rsplit(".", 1)[-1]


def wire_map(layouts: Mapping[str, RecordLayout], name: str,
             select: Mapping[str, str] | None = None,
             padding: str | None = None) -> tuple[WireLeaf, ...]:
    """The wire map of record `name`.

    select maps the dotted path of a union field to the member to keep, e.g.
    {"u": "rw"}; an unnamed union is addressed by the path of its parent
    ("" at the top).  padding is a regex flagging padding field names.
    """
    if name not in layouts:
        raise error(f"no struct or union '{name}' in the header")
    select = dict(select or {})
    used: set[str] = set()
    pad = re.compile(padding) if padding else None
    leaves: list[WireLeaf] = []

    def walk(rec: RecordLayout, base: int, prefix: str) -> None:
        fields = rec.fields
        if rec.kind == "union" and prefix.rstrip(".") in select:
            key = prefix.rstrip(".")
            member = select[key]
            fields = tuple(f for f in rec.fields if f.name == member)
            if not fields:
                known = ", ".join(f.name or "(unnamed)" for f in rec.fields)
                raise error(f"union '{key or name}' of '{name}' has no member '{member}' (members: {known})")
            used.add(key)
        for f in fields:
            path = prefix + f.name if f.name else prefix.rstrip(".")
            if f.record is not None and not f.dims and (f.record.kind == "struct" or path in select):
                walk(f.record, base + f.offset, path + "." if path else "")
            else:
                leaves.append(_leaf(f, base, path, pad))

    walk(layouts[name], 0, "")
    unused = set(select) - used
    if unused:
        raise error(f"'{name}' has no union at '{sorted(unused)[0]}' to select a member of")
    return tuple(leaves)


def _leaf(f: FieldLayout, base: int, path: str, pad: re.Pattern | None) -> WireLeaf:
    return WireLeaf(
        offset=base + f.offset, size=f.size, type=f.canonical, path=path, dims=f.dims,
        padding=bool(pad and f.name and pad.search(f.name)),
        bit_offset=None if f.bit_offset is None else base * 8 + f.bit_offset,
        bit_width=f.bit_width)


def request_wire_map(layouts: Mapping[str, RecordLayout], profile: Profile,
                     kind: str) -> tuple[WireLeaf, ...]:
    """Wire map of one request kind of the spec (blkif_request_discard ...),
    as the profile says the header carries it."""
    rk = profile.request_kinds.get(kind)
    if rk is None:
        raise error(f"header profile '{profile.name}' has no request kind '{kind}' "
                    f"(known: {', '.join(profile.request_kinds)})", Mark(profile.file))
    try:
        return wire_map(layouts, rk.struct, rk.select, profile.padding)
    except SpecError as e:  # a profile that does not fit the header: point at the profile
        raise error(f"request kind '{kind}': {e.diagnostics[0].message}", Mark(profile.file)) from None
