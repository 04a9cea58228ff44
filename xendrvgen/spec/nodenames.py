"""C macro names for XenStore nodes, shared by every template.

Driver code never spells a node name as a string literal: it uses the macro
the node header defines.  The names are made here, once, so the node header
and every driver template (and xendrvgen.plan's users) agree:

    backend  feature-barrier   -> BLKIF_NODE_BE_FEATURE_BARRIER  "feature-barrier"
    frontend ring-ref%u        -> BLKIF_NODE_FE_RING_REF_FMT     "ring-ref%u"
    frontend event-channel, in a queue directory
                               -> BLKIF_NODE_FE_EVENT_CHANNEL_IN_QUEUE "queue-%u/event-channel"

Suffixes for values: _DEFAULT, _MIN, _MAX (numbers or constants),
_DEFAULT_NODE / _MAX_NODE / _MIN_NODE (the macro of the node a limit names),
_IN_QUEUE (the node's path format inside a queue-%u directory),
_VALUE_<V> (each allowed value of an enum node).
"""
from __future__ import annotations

import re

from xendrvgen.base.diagnostics import SpecError, Diagnostic, ERROR
from .model import Spec, XsNode

PREFIX = "BLKIF_NODE_"
SIDE_TAG = {"backend": "BE", "frontend": "FE"}
QUEUE_DIR = "queue-%u"


def _upper(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", text)).strip("_").upper()


def node_macro(node: XsNode, suffix: str = "") -> str:
    """Macro holding the node's name (a printf format when it is a pattern)."""
    base = _upper(node.name.replace("%u", ""))
    name = f"{PREFIX}{SIDE_TAG[node.side]}_{base}"
    if node.is_pattern:
        name += "_FMT"
    return name + (f"_{suffix}" if suffix else "")


def queue_macro(node: XsNode) -> str:
    """Macro of the path format of a node inside a queue-%u directory."""
    return node_macro(node, "IN_QUEUE")


def value_macro(node: XsNode, value: str) -> str:
    return node_macro(node, f"VALUE_{_upper(value) or 'EMPTY'}")


def queue_path(node: XsNode) -> str:
    return f"{QUEUE_DIR}/{node.name}"


def check_unique(spec: Spec) -> None:
    """Two nodes must never map to one macro (e.g. 'a-b' and 'a_b')."""
    seen: dict[str, XsNode] = {}
    diags = []
    for n in spec.nodes:
        names = [node_macro(n)] + ([queue_macro(n)] if n.per_queue else [])
        names += [value_macro(n, v) for v in n.values]
        for m in names:
            other = seen.get(m)
            if other is not None and other is not n:
                diags.append(Diagnostic(ERROR, f"node '{n.name}' and node '{other.name}' (line "
                                        f"{other.mark.line}) both map to the C macro {m}",
                                        n.mark, f"node '{n.side}/{n.name}'"))
            seen[m] = n
    if diags:
        raise SpecError(diags)
