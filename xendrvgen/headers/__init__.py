"""Plain facts about a real C copy of blkif.h.

    facts = analyze("/usr/include/xen/io/blkif.h")        # profile picked by content
    facts.layouts["x86_32"]["blkif_request"].size           # 108
    facts.wire_map("blkif_request", "x86_64")               # leaves: offset, size, type, path, dims

Modules: abi (the four ABIs, the C type vocabulary), profiles (per-header
details, specs/headers/*.yaml), preprocess (gcc -E per ABI), ctext (its output
made ready for pycparser), cexpr (constant expressions), cparse (pycparser:
names, types, constants), layout (sizes and offsets: start the parses, wait
for them), recordlayout (what they return), clangparse (libclang's walk of a
TU), clangrun (libclang in a child process, under limits), wire (flattened
wire maps), nodedocs (the XenStore node documentation block), fielddocs (what
the comments say of each ring field), doctext (sentences, typo-proof
fingerprints, units), docrevs (which Xen release's documentation),
headerfacts (HeaderFacts), facts (analyze()), factcache (HeaderFacts on
disk).  compare/ holds what validate, diff-header and layout report.
"""
from .abi import ABIS, ALL

# The rest is imported when first used: the libclang process (clangrun.py)
# starts inside this package and needs none of it.
_LAZY = {"HeaderFacts": "headerfacts", "analyze": "facts", "analyze_many": "facts",
         "HeaderOptions": "profiles", "Profile": "profiles", "all_profiles": "profiles",
         "detect_installed": "profiles", "header_options": "profiles", "load_profile": "profiles"}

__all__ = ["ABIS", "ALL", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
