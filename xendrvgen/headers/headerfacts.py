"""HeaderFacts: everything analyze() found in one copy of a header, per ABI
(built by facts.py, stored and restored by factcache.py)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from xendrvgen.base.diagnostics import error
from . import fielddocs, wire
from .nodedocs import NodeDocs
from .profiles import Profile
from .recordlayout import RecordLayout

if TYPE_CHECKING:
    from .cparse import Constant, CRecord, SkippedMacro, TypeAlias


@dataclass(frozen=True)
class HeaderFacts:
    path: str                                            # absolute path of the header
    profile: Profile
    abis: tuple[str, ...]                                # the ABIs analysed
    companions: tuple[str, ...]                          # companion headers found beside it
    constants: Mapping[str, Constant]                    # same value on every analysed ABI
    constants_by_abi: Mapping[str, Mapping[str, Constant]]  # abi -> all constants there
    skipped: Mapping[str, SkippedMacro]                  # own macros that are not constants
    typedefs: Mapping[str, TypeAlias]                    # same on every analysed ABI
    typedefs_by_abi: Mapping[str, Mapping[str, TypeAlias]]
    structs: Mapping[str, Mapping[str, CRecord]]         # abi -> tag -> record (pycparser)
    layouts: Mapping[str, Mapping[str, RecordLayout]]    # abi -> tag -> layout (libclang)
    node_docs: NodeDocs | None                           # None: the header has no node block
    # struct.field -> what the comments say of it (None: the profile reads no documentation)
    field_docs: Mapping[str, fielddocs.FieldDoc] | None = None
    # ABIs asked for that the copy refuses with #error ("Unsupported architecture"): abi -> why
    unsupported: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def abi_dependent_constants(self) -> list[str]:
        """Constants whose value differs between ABIs (XEN_IO_PROTO_ABI_NATIVE)."""
        names = set().union(*(c.keys() for c in self.constants_by_abi.values()))
        return sorted(names - set(self.constants))

    def wire_map(self, kind: str, abi: str) -> tuple[wire.WireLeaf, ...]:
        """Wire map of a request kind of the spec (blkif_request, blkif_request_discard,
        blkif_request_indirect) on one ABI, as this header carries it."""
        if abi not in self.layouts:
            raise error(f"ABI '{abi}' was not analysed (analysed: {', '.join(self.abis)})")
        return wire.request_wire_map(self.layouts[abi], self.profile, kind)
