"""What blkif_nodes.h prints: a macro per XenStore node name, with its
default and limits, and the assertions that keep them consistent."""
from __future__ import annotations

import re

from xendrvgen.spec import nodenames
from xendrvgen.spec.model import ConstRef, NodeRef, XsNode
from .blkifview import SECTION_TITLES
from .headerparts import Tags, align_defines
from .headerrecords import CDefine, NodeEntry, NodeSection, NodesView


class NodesParts:
    # --- blkif_nodes.h ------------------------------------------------------
    def nodes(self) -> NodesView:
        spec, sp, os = self.spec, self.sp, self.os
        nodenames.check_unique(spec)
        conf = self.header_conf("nodes")
        tags = Tags("blkif_nodes")
        sections: list[NodeSection] = []
        asserts: list[str] = []
        for side in ("backend", "frontend"):
            order: list[str] = []
            for n in spec.nodes_of(side):
                if n.section not in order:
                    order.append(n.section)
            for sec in order:
                entries = []
                for n in spec.nodes_of(side):
                    if n.section != sec:
                        continue
                    defs, checks = self.node_defines(n)
                    entries.append(NodeEntry(f"{n.side}/{n.name}",
                                             tuple(sp.comment(self.node_text(n))), align_defines(defs)))
                    for expr, msg in checks:
                        asserts.append(sp.static_assert(expr, msg, tags()))
                title = f"{side.capitalize()} nodes: {SECTION_TITLES.get(sec, sec)}."
                sections.append(NodeSection(tuple(sp.comment(title)), tuple(entries)))
        notes = []
        for note in spec.notes:
            notes.append(f"({note.number}) {note.text}")
        notes_lines = tuple(sp.comment("Notes referred to above.\n\n" + "\n\n".join(notes))) if notes else ()
        qd = CDefine(f"{nodenames.PREFIX}FE_QUEUE_DIR_FMT", f'"{nodenames.QUEUE_DIR}"',
                     tuple(sp.comment("Directory of one queue's nodes when several queues are in use.")),
                     f'#define {nodenames.PREFIX}FE_QUEUE_DIR_FMT "{nodenames.QUEUE_DIR}"')
        return NodesView(conf.guard, conf.includes, os.portable_asserts, qd, tuple(sections),
                         notes_lines, tuple(asserts))

    def node_text(self, n: XsNode) -> str:
        readers = " and ".join(f"the {r}" for r in n.readers)
        parts = [n.description.strip(), ""]
        meta = [f"Type {n.type}", f"written by the {n.writer}" if n.writer != "toolstack" else "written by the toolstack",
                f"read by {readers}"]
        if n.published_in:
            meta.append(f"published in {n.published_in}")
        text = "; ".join(meta) + "."
        flags = []
        if n.private:
            flags.append("Private to the side whose directory holds it.")
        if n.deprecated:
            flags.append("Deprecated: only for legacy peers.")
        if n.per_queue:
            flags.append("With several queues, kept in each queue-%u directory instead.")
        if n.extension:
            flags.append(f"Extension ({n.vendor or 'vendor'}), not in Xen's header.")
        if n.max_rule:
            flags.append(f"Maximum: {n.max_rule}.")
        if n.notes:
            flags.append("Notes: " + ", ".join(str(x) for x in n.notes) + ".")
        text = " ".join([text, *flags])
        return f"{parts[0]}\n\n{text} [{self.sp.src(n.mark)}]"

    def _ref_node(self, n: XsNode, name: str, prefer_same: bool) -> XsNode | None:
        other = "backend" if n.side == "frontend" else "frontend"
        order = (n.side, other) if prefer_same else (other, n.side)
        for side in order:
            hit = self.spec.node(side, name)
            if hit is not None:
                return hit
        return None

    def node_defines(self, n: XsNode):
        sp = self.sp
        defs = [(nodenames.node_macro(n), f'"{n.name}"', ())]
        if n.per_queue:
            defs.append((nodenames.queue_macro(n), f'"{nodenames.queue_path(n)}"', ()))
        for v in n.values:
            defs.append((nodenames.value_macro(n, v), f'"{v}"', ()))
        numeric: dict = {}
        for key, val, same in (("DEFAULT", n.default, True), ("MIN", n.min, False), ("MAX", n.max, False)):
            if val is None:
                continue
            if isinstance(val, bool):
                val = int(val)
            if isinstance(val, int):
                defs.append((nodenames.node_macro(n, key), sp.int_literal(val), ()))
                numeric[key] = nodenames.node_macro(n, key)
            elif isinstance(val, ConstRef):
                defs.append((nodenames.node_macro(n, key), val.constant, ()))
            elif isinstance(val, NodeRef):
                ref = self._ref_node(n, val.node, prefer_same=same)
                if ref is not None:
                    defs.append((nodenames.node_macro(n, f"{key}_NODE"), nodenames.node_macro(ref), ()))
            elif isinstance(val, str):
                v = val if re.fullmatch(r"[A-Z_][A-Z0-9_]*", val) else f'"{val}"'
                defs.append((nodenames.node_macro(n, key), v, ()))
        checks = []
        where = f"node {n.side}/{n.name} [{sp.src(n.mark)}]"
        if "DEFAULT" in numeric and "MIN" in numeric:
            checks.append((f"{numeric['DEFAULT']} >= {numeric['MIN']}", f"default below minimum, {where}"))
        if "DEFAULT" in numeric and "MAX" in numeric:
            checks.append((f"{numeric['DEFAULT']} <= {numeric['MAX']}", f"default above maximum, {where}"))
        if "MIN" in numeric and "MAX" in numeric:
            checks.append((f"{numeric['MIN']} <= {numeric['MAX']}", f"minimum above maximum, {where}"))
        return defs, checks
