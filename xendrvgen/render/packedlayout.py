"""Explicit struct layouts, computed from the spec's per-ABI layout tables.

A struct whose layout must not depend on the compiler's ABI (the x86_32 and
x86_64 request variants a backend reads, Linux's packed request union) is
declared packed, with every gap the spec's table shows filled by a named
padding member, and its alignment set explicitly.  `slots()` turns one
struct's table for one ABI into that sequence of members.

`group_by_value()` and `merge_variants()` turn per-ABI results into as few
`#if` branches as possible, so a header reads like a hand-written one:
members every ABI shares are written once.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence

from xendrvgen.base.diagnostics import Mark, error
from xendrvgen.spec.model import C_BASE_TYPES, Field, Spec, Struct


@dataclass(frozen=True)
class Slot:
    """One member of an explicit layout: a spec field or inserted padding."""
    offset: int
    size: int
    field: Field | None        # None: padding inserted here
    pad_name: str = ""         # name of inserted padding (_pad1, _pad2, ...)
    before: str = ""           # padding: the field it precedes ('' at the end)

    @property
    def is_pad(self) -> bool:
        return self.field is None


def field_size(spec: Spec, f: Field, abi: str) -> int:
    """Bytes a field takes on an ABI (arrays included)."""
    if f.is_struct:
        one = spec.struct(f.base).layouts[abi].size
    else:
        one = C_BASE_TYPES[f.base]
    return one * (f.count or 1)


def slots(spec: Spec, st: Struct, abi: str, *, start: int = 0, end: int | None = None,
          only: Sequence[str] | None = None, abis: Sequence[str] | None = None) -> list[Slot]:
    """Members placing each field of `st` at its spec offset on `abi`.

    start: the offset the member list begins at (fields before it are left
    out, as a union member leaves out the common `operation` byte);
    end: where it stops (default: the struct's size, so tail padding is
    explicit); only: keep just these fields.
    """
    lay = st.layouts[abi]
    end = lay.size if end is None else end
    fields = [f for f in st.fields_on(abi)
              if lay.offsets[f.name] >= start and (only is None or f.name in only)]
    fields.sort(key=lambda f: lay.offsets[f.name])
    out: list[Slot] = []
    pos = start
    for f in fields:
        off = lay.offsets[f.name]
        if off < pos:
            raise error(f"{abi}: field '{f.name}' at offset {off} overlaps the member before it",
                        lay.mark, f"struct '{st.name}'")
        if off > pos:
            out.append(Slot(pos, off - pos, None, "", f.name))
        size = field_size(spec, f, abi)
        out.append(Slot(off, size, f))
        pos = off + size
    if end > pos:
        out.append(Slot(pos, end - pos, None, "", ""))
    elif end < pos:
        raise error(f"{abi}: members end at {pos}, past the size {end}", lay.mark, f"struct '{st.name}'")
    return _name_pads(st, out, [abi] if abis is None else abis,
                      lambda a: _gaps(spec, st, a, start, end if a == abi else None, only))


def _gaps(spec: Spec, st: Struct, abi: str, start: int, end: int | None, only) -> list[str]:
    """Where a layout of `st` on `abi` has gaps: the field after each ('' at the end)."""
    lay = st.layouts[abi]
    end = lay.size if end is None else end
    fields = sorted((f for f in st.fields_on(abi)
                     if lay.offsets[f.name] >= start and (only is None or f.name in only)),
                    key=lambda f: lay.offsets[f.name])
    out, pos = [], start
    for f in fields:
        if lay.offsets[f.name] > pos:
            out.append(f.name)
        pos = lay.offsets[f.name] + field_size(spec, f, abi)
    if (end if only is None else pos) > pos:
        out.append("")
    return out


def _name_pads(st: Struct, members: list[Slot], abis, gaps_of) -> list[Slot]:
    """Name padding _pad1, _pad2, ... by where it sits among the fields, so a
    gap that several ABIs have gets the same name on each."""
    order = {f.name: i for i, f in enumerate(st.fields)}
    keys = sorted({k for a in abis for k in gaps_of(a)}, key=lambda k: order.get(k, len(order)))
    taken = {f.name for f in st.fields}
    names, n = {}, 0
    for k in keys:
        n += 1
        while f"_pad{n}" in taken:
            n += 1
        names[k] = f"_pad{n}"
    return [Slot(m.offset, m.size, None, names[m.before], m.before) if m.is_pad else m for m in members]


def same_on_every_abi(st: Struct, abis: Iterable[str]) -> bool:
    """True when a struct's size, alignment and offsets are one table on all ABIs."""
    tables = {(l.size, l.align, tuple(sorted(l.offsets.items())))
              for a, l in st.layouts.items() if a in set(abis)}
    return len(tables) == 1


def group_by_value(abis: Sequence[str], value_of: Callable[[str], Hashable]) -> list[tuple[tuple, Hashable]]:
    """ABIs grouped by equal value, groups in the order of their first ABI."""
    groups: dict = {}
    for a in abis:
        v = value_of(a)
        groups.setdefault(v, []).append(a)
    return [(tuple(members), v) for v, members in groups.items()]


@dataclass(frozen=True)
class Branch:
    """An `#if` block: (condition, lines) pairs; a None condition is `#else`."""
    arms: tuple


def merge_variants(groups: list[tuple[str | None, list[str]]]) -> list:
    """Interleave per-ABI line lists into shared lines and `#if` Branches.

    groups: (condition, lines) for each distinct variant; the last condition
    may be None for "every other ABI".  With two variants, lines both share
    are written once and only the differing runs are conditional; with more,
    each variant gets its own arm.
    """
    if len(groups) == 1:
        return list(groups[0][1])
    if len(groups) > 2:
        return [Branch(tuple((c, tuple(lines)) for c, lines in groups))]
    (ca, a), (cb, b) = groups
    out: list = []
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            out.extend(a[i1:i2])
            continue
        arms = []
        if i2 > i1:
            arms.append((ca, tuple(a[i1:i2])))
        if j2 > j1:
            arms.append((cb if arms else _negate(ca, cb), tuple(b[j1:j2])))
        out.append(Branch(tuple(arms)))
    return out


def _negate(ca: str | None, cb: str | None) -> str:
    """Condition for lines only the second variant has, when the first has none."""
    if cb is not None:
        return cb
    if re.fullmatch(r"defined\([A-Za-z_][A-Za-z0-9_]*\)", ca):
        return f"!{ca}"
    return f"!({ca})"


def flatten(items) -> list[str]:
    """Lines and Branches as preprocessor text."""
    out: list[str] = []
    for it in items:
        if isinstance(it, str):
            out.append(it)
            continue
        for i, (cond, body) in enumerate(it.arms):
            if i == 0:
                out.append(f"#if {cond}")
            elif cond is None:
                out.append("#else")
            else:
                out.append(f"#elif {cond}")
            out.extend(flatten(body))
        out.append("#endif")
    return out


def check_abi(spec: Spec, abi: str, mark: Mark | None = None) -> None:
    if abi not in spec.abi_names:
        raise error(f"unknown ABI '{abi}' (the spec has: {', '.join(spec.abi_names)})", mark)
