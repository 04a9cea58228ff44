"""What the protocol header templates print, computed from spec and profile.

Three views, one per header: `blkif_view` (types, constants, the native
structs, the ring and the per-ABI assertion tables), `abi_view` (the x86_32
and x86_64 variant structs with explicit layouts, their assertions, and the
plans of the functions converting between a variant and the native layout)
and `nodes_view` (a macro per XenStore node name, default and limit).

Templates only arrange these: every decision (which ABIs share a layout,
where padding goes, which fields a request kind copies, which assertion
holds on which ABI) is taken here: headerparts (what every view is made
of), blkifview, abiview and nodesview (one header each); the records they
return are in headerrecords.
"""
from __future__ import annotations

from xendrvgen.spec.model import Spec
from xendrvgen.spec.osprofile import OsProfile
from .abiview import AbiParts
from .blkifview import BlkifParts
from .cspelling import CSpeller
from .headerparts import Parts
from .headerrecords import AbiView, BlkifView, NodesView
from .nodesview import NodesParts


class _Builder(Parts, BlkifParts, AbiParts, NodesParts):
    """The views of one spec on one OS profile, each header's part in a mixin."""

    def __init__(self, spec: Spec, profile: OsProfile, spec_name: str):
        self.spec, self.os = spec, profile
        self.sp = CSpeller(spec, profile, spec_name)
        self.ind = profile.indent


def blkif_view(spec: Spec, profile: OsProfile, spec_name: str) -> BlkifView:
    return _Builder(spec, profile, spec_name).blkif()


def abi_view(spec: Spec, profile: OsProfile, spec_name: str) -> AbiView:
    return _Builder(spec, profile, spec_name).abi()


def nodes_view(spec: Spec, profile: OsProfile, spec_name: str) -> NodesView:
    return _Builder(spec, profile, spec_name).nodes()
