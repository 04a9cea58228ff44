"""The records the protocol header templates read: frozen dataclasses, one
view per header (BlkifView, AbiView, NodesView) and their parts, built by
headerviews.py."""
from __future__ import annotations

from dataclasses import dataclass


# ---------------------------------------------------------------------------
# Data handed to templates
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CStruct:
    name: str                  # spec struct it renders (for cross-references)
    tag: str
    comment: tuple             # comment lines above it
    lines: tuple               # from `struct x {` to `};`, #if lines included
    typedef: str | None        # full typedef line, or None


@dataclass(frozen=True)
class CDefine:
    name: str
    value: str
    comment: tuple             # comment lines above it (may be empty)
    line: str                  # the aligned `#define NAME VALUE` line


@dataclass(frozen=True)
class DefineSection:
    title: tuple               # comment lines
    defines: tuple             # CDefine


@dataclass(frozen=True)
class Typedef:
    name: str
    comment: tuple
    lines: tuple


@dataclass(frozen=True)
class AssertGroup:
    condition: str | None      # C condition selecting the ABIs; None: every ABI
    abis: tuple
    asserts: tuple             # spelled assertion lines
    align_asserts: tuple
    align_guard: str | None    # macro that must be defined for align_asserts


@dataclass(frozen=True)
class Assign:
    dst: str
    src: str
    kind: str = "assign"


@dataclass(frozen=True)
class Loop:
    index: str
    bound: str
    body: tuple
    kind: str = "loop"


@dataclass(frozen=True)
class Case:
    labels: tuple              # constant names; empty for `default`
    decls: tuple               # local declarations (casts), spelled
    steps: tuple


@dataclass(frozen=True)
class Param:
    prefix: str                # EDK2's IN / OUT, or ''
    type: str
    name: str


@dataclass(frozen=True)
class Function:
    name: str
    comment: tuple
    ret: str
    params: tuple
    locals: tuple              # spelled declarations
    first: tuple               # steps before the switch
    switch: str | None
    cases: tuple
    steps: tuple               # steps when there is no switch


@dataclass(frozen=True)
class Variant:
    name: str                  # x86_32
    abi: str
    protocol: str              # constant naming it in the protocol node
    structs: tuple
    ring: str                  # DEFINE_RING_TYPES(...) line
    asserts: AssertGroup
    get_request: Function
    put_response: Function


@dataclass(frozen=True)
class BlkifView:
    guard: str
    includes: tuple
    portable: bool
    typedefs: tuple
    sections: tuple            # DefineSection
    pack: tuple                # (condition, n): #pragma pack around the structs
    structs: tuple             # CStruct
    ring: str
    ring_comment: tuple
    asserts: tuple             # AssertGroup per distinct layout (ring entry and header too)


@dataclass(frozen=True)
class AbiView:
    guard: str
    includes: tuple
    portable: bool
    inline: str
    protocols: tuple           # CDefine (each under #ifndef)
    native_protocol: tuple     # (condition, constant) per ABI group
    native_macro: str
    variants: tuple


@dataclass(frozen=True)
class NodeEntry:
    key: str                   # side/name
    comment: tuple
    defines: tuple             # CDefine


@dataclass(frozen=True)
class NodeSection:
    title: tuple
    nodes: tuple


@dataclass(frozen=True)
class NodesView:
    guard: str
    includes: tuple
    portable: bool
    queue_dir: CDefine
    sections: tuple
    notes: tuple               # comment lines
    asserts: tuple             # assertion lines valid on every ABI
