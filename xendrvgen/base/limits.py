"""Resource limits on untrusted input, in one table.

xendrvgen runs in CI on specs and headers from pull requests, so whatever an
input could make grow without end (memory, time, output) is bounded here.  A
breach is bad input (exit 2) with a message naming the limit and its value.
Each value leaves at least ten times the room the shipped spec and the
installed headers need.  A genuine input past one can raise it:

    XENDRVGEN_LIMITS="yaml-nodes=200000,header-seconds=60" xendrvgen validate
"""
from __future__ import annotations

import functools
import os
from collections import namedtuple
from types import MappingProxyType

from .diagnostics import Mark, SpecError, error

ENV = "XENDRVGEN_LIMITS"
MiB = 1 << 20


# a named tuple, not a dataclass: this module is imported by every run
Limit = namedtuple("Limit", "name value unit meaning")   # unit: "bytes", "nodes", "seconds", ...


TABLE = MappingProxyType({lim.name: lim for lim in (
    # the spec and the YAML profiles (specs/blkif.yaml: 50 KB, 2,925 nodes, depth 7)
    Limit("spec-bytes", 1 * MiB, "bytes", "size of the spec file (and of any YAML text parsed: profiles too)"),
    Limit("yaml-nodes", 50_000, "nodes", "YAML nodes of one document, each alias counted as the nodes it repeats"),
    Limit("yaml-depth", 100, "levels", "nesting of YAML mappings and sequences"),
    Limit("description-chars", 10_000, "characters", "one description or note of the spec (longest shipped: 343)"),
    Limit("struct-fields", 1_000, "fields", "fields of one struct of the spec (most shipped: 8)"),
    # a header's analysis (blkif.h: 38 KB of gcc output, gcc needs 48 MiB, 0.15 s in all)
    Limit("cpp-output", 1 * MiB, "bytes", "output of `gcc -E` for one header and ABI"),
    Limit("cpp-memory", 512 * MiB, "bytes", "address space of gcc (and cc1) preprocessing one header for one ABI"),
    Limit("cpp-seconds", 20, "seconds", "wall time of gcc preprocessing one header (all ABIs at once)"),
    Limit("macro-expansion", 64 * 1024, "characters",
          "the header's own macros expanded to evaluate them, all together, per ABI (blkif.h: 131)"),
    Limit("macro-depth", 100, "levels", "macros naming macros naming macros ... (blkif.h: 2)"),
    Limit("c-depth", 100, "levels",
          "nested struct/union definitions, typedefs of typedefs, any C nesting pycparser reads (blkif.h: < 5)"),
    Limit("clang-memory", 2048 * MiB, "bytes",
          "address space of the process running libclang on one header, all ABIs (blkif.h: < 400 MiB)"),
    Limit("header-seconds", 30, "seconds", "wall time of the analysis of one header, gcc and libclang included"),
)})


@functools.lru_cache(maxsize=4)
def _overrides(env: str) -> dict[str, int | float]:
    out = {}
    for item in filter(None, (s.strip() for s in env.split(","))):
        name, _, text = item.partition("=")
        name = name.strip()
        if name not in TABLE:
            raise error(f"{ENV}: unknown limit '{name}' (known: {', '.join(TABLE)})")
        try:
            value = float(text) if TABLE[name].unit == "seconds" else int(text)
        except ValueError:
            raise error(f"{ENV}: limit '{name}' needs a number, not '{text.strip()}'") from None
        if value <= 0:
            raise error(f"{ENV}: limit '{name}' must be positive")
        out[name] = value
    return out


def get(name: str) -> int | float:
    """The limit's value: the table's, or the one XENDRVGEN_LIMITS sets."""
    return _overrides(os.environ.get(ENV, "")).get(name, TABLE[name].value)


def _show(value: int | float, unit: str) -> str:
    if unit == "bytes" and value >= MiB and value % MiB == 0:
        return f"{value // MiB} MiB"
    return f"{value:,} {unit}" if isinstance(value, int) else f"{value:g} {unit}"


def message(name: str, what: str) -> str:
    """`what` (the breach, in words, with the value) followed by the limit's
    name and how to raise it."""
    return f"{what} (limit '{name}'); if the input is genuine, raise it with {ENV}={name}=<{TABLE[name].unit}>"


def most(name: str) -> str:
    """The limit's value in words: "1 MiB", "50,000 nodes"."""
    return _show(get(name), TABLE[name].unit)


def exceeded(name: str, what: str, mark: Mark | None = None, context: str = "") -> SpecError:
    """The SpecError (exit 2) of a breached limit."""
    return error(message(name, what), mark, context)


def markdown() -> str:
    """The table for docs/security.md."""
    rows = [f"| `{lim.name}` | {_show(lim.value, lim.unit)} | {lim.meaning} |" for lim in TABLE.values()]
    return "\n".join(["| limit | value | what it bounds |", "|---|---|---|", *rows])
