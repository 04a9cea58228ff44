"""Plain facts about a real C copy of blkif.h.

    facts = analyze("/usr/include/xen/io/blkif.h")        # profile picked by content
    facts.layouts["x86_32"]["blkif_request"].size           # 108
    facts.wire_map("blkif_request", "x86_64")               # leaves: offset, size, type, path, dims

Modules: abi (the four ABIs, the C type vocabulary), profiles (per-header
details, specs/headers/*.yaml), preprocess (gcc -E per ABI), ctext (its output
made ready for pycparser), cexpr (constant expressions), cparse (pycparser:
names, types, constants), layout (libclang: sizes and offsets), wire
(flattened wire maps), nodedocs (the XenStore node documentation block),
facts (analyze()).
"""
from .abi import ABIS, ALL
from .facts import HeaderFacts, analyze, analyze_many
from .profiles import Profile, all_profiles, detect_installed, load_profile

__all__ = ["ABIS", "ALL", "HeaderFacts", "Profile", "all_profiles", "analyze", "analyze_many",
           "detect_installed", "load_profile"]
