"""The spec's XenStore nodes compared with a header's node documentation
block: each node present, its writer, type, default, values and limits as
the header documents them."""
from __future__ import annotations

import re

from xendrvgen.base.diagnostics import MISMATCH, Mark, NOTE
from xendrvgen.spec.model import NodeRef
from .report import header_position


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def _show(v) -> str:
    return "none" if v is None else repr(v) if isinstance(v, str) else str(v)


def _spec_default(d):
    if d is None:
        return None
    if isinstance(d, NodeRef):
        return f"<{d.node}>"
    return str(d)


def _header_default(text: str | None):
    if text is None:
        return None
    t = text.strip()
    m = re.fullmatch(r'<"([^"]+)">', t)
    if m:
        return f"<{m.group(1)}>"
    return t.strip('"')


_NUMERIC = {"uint32": r"<uint32_t>", "uint64": r"<uint64_t>"}


def _values_problem(n, values: str) -> str | None:
    """Does the header's Values: text agree with the node's type (and values)?"""
    v = re.sub(r"<(u?int\d+)>", r"<\1_t>", values.strip(), flags=re.I)   # EDK2's <UINT32>
    v = re.sub(r"<(u?int\d+_t)>", lambda m: m[0].lower(), v, flags=re.I)
    quoted = re.findall(r'"([^"]*)"', v)
    if v.startswith("0/1"):
        header_type = "bool"
    elif "(bitmap)" in v:
        header_type = "bitmap"
    elif v.startswith("<uint64_t>"):
        header_type = "uint64"
    elif v.startswith("<uint32_t>"):
        header_type = "uint32"
    else:
        header_type = "string"
    if n.type == "enum":
        if header_type != "string" or sorted(quoted) != sorted(n.values):
            return f"values: spec enum {list(n.values)}, header {v!r}"
        return None
    if n.type != header_type:
        return f"type: spec {n.type}, header {v!r}"
    return None


class NodeChecks:
    # -- XenStore nodes ------------------------------------------------------
    def nodes(self):
        docs = self.facts.node_docs
        if docs is None:
            self.add(NOTE, None, "", "this header has no XenStore node documentation; nodes were not compared")
            return
        by_key = {(d.side, d.name): d for d in docs.nodes}
        for n in self.spec.nodes:
            ctx = f"node '{n.name}' ({n.side})"
            doc = by_key.pop(n.key, None)
            if doc is None:
                older = self._older_header()
                if n.documented and older:
                    self.add(NOTE, n.mark, ctx, f"the header does not document this node yet [older "
                             f"documentation: {older}; the spec follows {self.docs.follows.label}]")
                elif n.documented:
                    self.add(MISMATCH, n.mark, ctx, "the header does not document this node "
                             "(if upstream dropped it, set documented: false)")
                continue
            if not n.documented:
                self.add(MISMATCH, n.mark, ctx, f"the header documents this node ({header_position(self.facts, doc.line)}); "
                         "set documented: true and compare its details")
                continue
            where = header_position(self.facts, doc.line)
            sd, hd = _spec_default(n.default), _header_default(doc.default)
            if sd != hd:
                self._node_finding(n, f"default: spec {_show(sd)}, header {_show(hd)} ({where})")
            if n.deprecated and not doc.deprecated:
                # Xen deprecates nodes and never takes that back: a spec that follows a later
                # Xen than this header is ahead of it, not wrong.
                older = self.docs.older_note(f"{n.side}/{n.name}") if self.docs else None
                why = f" [older documentation: {older}'s; the spec follows {self.docs.follows.label}]" \
                    if older else ""
                self.add(NOTE, n.mark, ctx, f"deprecated in the spec, not yet in this header ({where}){why}")
            elif doc.deprecated and not n.deprecated:
                self._node_finding(n, f"deprecated: spec no, header yes ({where})")
            if n.private != doc.private:
                self._node_finding(n, f"private: spec {_yes(n.private)}, header {_yes(doc.private)} ({where})")
            if tuple(sorted(n.notes)) != tuple(sorted(doc.notes)):
                self._node_finding(n, f"notes: spec {list(n.notes)}, header {list(doc.notes)} ({where})")
            if (n.max_rule or None) != (doc.maximum or None) and not (
                    doc.maximum and isinstance(n.max, int) and doc.maximum.strip() == str(n.max)):
                self._node_finding(n, f"maximum: spec {_show(n.max_rule or n.max)}, "
                         f"header {_show(doc.maximum)} ({where})")
            problem = _values_problem(n, doc.values)
            if problem:
                self._node_finding(n, f"{problem} ({where})")
        for (side, name), doc in sorted(by_key.items(), key=lambda kv: kv[1].line):
            self.add(MISMATCH, Mark(self.spec.file), f"node '{name}' ({side})",
                     f"the header documents this node ({header_position(self.facts, doc.line)}), which the spec lacks")
        spec_notes = {x.number for x in self.spec.notes}
        for num, note in sorted(docs.notes.items()):
            if num not in spec_notes:
                self.add(MISMATCH, Mark(self.spec.file), f"note {num}",
                         f"the header has note ({num}) ({header_position(self.facts, note.line)}), which the spec lacks")
        older = self._older_header()
        for x in self.spec.notes:
            if x.number not in docs.notes:
                sev = NOTE if older or not self.facts.profile.canonical else MISMATCH
                why = f" [older documentation: {older}; the spec follows " \
                      f"{self.docs.follows.label}]" if older else ""
                self.add(sev, x.mark, f"note {x.number}", f"the header has no note ({x.number}){why}")
        self.res.compared["nodes"] = len(docs.nodes)
