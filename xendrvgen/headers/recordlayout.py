"""What libclang measured of one record: FieldLayout and RecordLayout, plain
frozen data (the parse is clangparse.py, run by clangrun.py; the fact cache
stores them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldLayout:
    name: str                       # "" for an unnamed struct/union member
    offset: int                     # bytes from the start of the enclosing record
    size: int                       # bytes, the whole array for arrays
    align: int
    type: str                       # as clang spells it ("uint64_t", "struct blkif_request_segment[11]")
    canonical: str                  # element type, typedefs resolved to fixed-width names
    dims: tuple[int, ...]           # array dimensions, outermost first (0: flexible)
    record: "RecordLayout | None"   # layout of the (element) struct/union type
    bit_offset: int | None = None   # bit-fields: offset in bits from the record start
    bit_width: int | None = None


@dataclass(frozen=True)
class RecordLayout:
    kind: str                       # "struct" | "union"
    name: str | None                # tag; None when untagged
    size: int
    align: int
    fields: tuple[FieldLayout, ...]
    file: str
    line: int

    def field(self, name: str) -> FieldLayout:
        return next(f for f in self.fields if f.name == name)
