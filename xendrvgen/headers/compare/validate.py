"""Compare the spec with real copies of blkif.h, by wire layout on every ABI.

A copy may be shaped differently from Xen's (Linux folds the request kinds
into one packed struct with a union); what matters is which bytes at which
offset carry which field of which type.  A difference in meaning is a
MISMATCH (exit 1); something the copy lacks or names differently without
changing the wire is a NOTE.  Every finding names the spec element, the
spec's value, the header's value and the spec's file:line.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from xendrvgen.base.diagnostics import MISMATCH, NOTE, Diagnostic, Mark, SpecError, error, render
from xendrvgen.spec.model import C_BASE_TYPES, NodeRef, Spec, Struct


@dataclass
class HeaderResult:
    path: str
    profile: str
    description: str
    findings: list[Diagnostic] = field(default_factory=list)
    compared: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(d.severity == MISMATCH for d in self.findings)


@dataclass
class Report:
    spec: str
    results: list[HeaderResult]

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)

    def render(self, fmt: str = "text") -> str:
        if fmt == "json":
            return json.dumps({
                "spec": self.spec, "ok": not self.failed, "errors": [],
                "headers": [{"path": r.path, "profile": r.profile, "ok": not r.failed,
                             "compared": r.compared,
                             "findings": [d.as_dict() for d in r.findings]} for r in self.results],
            }, indent=2)
        if fmt == "github":
            return render([d for r in self.results for d in r.findings], "github")
        out = []
        for r in self.results:
            n_mis = sum(d.severity == MISMATCH for d in r.findings)
            n_note = len(r.findings) - n_mis
            counts = ", ".join(f"{v} {k}" for k, v in r.compared.items())
            verdict = f"{n_mis} mismatch{'es' if n_mis != 1 else ''}" if n_mis else "matches the spec"
            extra = f", {n_note} note{'s' if n_note != 1 else ''}" if n_note else ""
            out.append(f"{r.path} ({r.description}; profile {r.profile}): {verdict}{extra} "
                       f"[compared {counts}]")
            out.extend("  " + d.text() for d in r.findings)
        return "\n".join(out)


# --------------------------------------------------------------------------
def start(headers: list[str] | None = None, abis: tuple[str, ...] | None = None, options=None):
    """Start analysing the given headers, or every installed copy we know.

    The analysis runs in the background; hand the result to validate_all().
    Problems with the headers are kept for later, so a bad spec is still
    reported first.
    """
    from xendrvgen import headers as cheader
    from xendrvgen.headers.facts import Analysis
    abis = tuple(abis or cheader.ALL)
    options = options or cheader.HeaderOptions()
    if headers:
        targets = [(h, None) for h in headers]
    else:
        targets = [(path, p) for p, path in cheader.detect_installed()]
        if not targets:
            pkgs = " or ".join(sorted({p.package for p in cheader.all_profiles()}))
            return error(f"no installed copy of blkif.h was found; install {pkgs} "
                         "(apt-get install libxen-dev linux-headers-amd64), or pass --header FILE")
    try:
        return Analysis(targets, abis, options)
    except SpecError as exc:
        return exc


def validate_all(spec: Spec, headers: list[str] | None = None, pending=None, options=None) -> Report:
    """Validate against the given headers, or every installed copy we know.

    pending: what start() returned, if the analysis was started earlier;
    options: the headers' --include and --define (cheader.HeaderOptions).
    """
    if pending is None or (not isinstance(pending, SpecError) and pending.abis != tuple(spec.abi_names)):
        if pending is not None:
            pending.close()
        pending = start(headers, tuple(spec.abi_names), options)
    if isinstance(pending, SpecError):
        raise pending
    return Report(spec.file, [compare(spec, facts) for facts in pending.finish()])


def compare(spec: Spec, facts) -> HeaderResult:
    """Compare the spec with one analysed header."""
    from . import docdrift
    docs = docdrift.compare(spec, facts)
    desc = facts.profile.description + (f"; {docs.label}" if docs else "")
    res = HeaderResult(facts.path, facts.profile.name, desc)
    c = _Compare(spec, facts, res, docs)
    c.unsupported()
    c.constants()
    c.types()
    c.structs()
    c.ring()
    c.nodes()
    c.documentation()
    res.findings = c.finish()
    return res


def _hdr(facts, line: int | None, file: str | None = None) -> str:
    return f"{file or facts.path}:{line}" if line else (file or facts.path)


class _Compare:
    def __init__(self, spec: Spec, facts, res: HeaderResult, docs=None):
        self.spec, self.facts, self.res, self.docs = spec, facts, res, docs
        # The ABIs analysed (diff-header may ask for a few).
        self.abis = [a for a in spec.abi_names if a in facts.layouts]
        # (severity, mark, context, message) -> ABIs it holds on, to merge repeats.
        self._found: dict = {}

    def add(self, severity: str, mark: Mark | None, context: str, message: str, abi: str | None = None):
        key = (severity, mark, context, message)
        self._found.setdefault(key, [])
        if abi:
            self._found[key].append(abi)

    def finish(self) -> list[Diagnostic]:
        out = []
        every = self.spec.abi_names
        for (sev, mark, ctx, msg), abis in self._found.items():
            if abis and sorted(abis) != sorted(every):
                msg = f"on {', '.join(a for a in every if a in abis)}: {msg}"
            out.append(Diagnostic(sev, msg, mark, ctx))
        # Mismatches first, then notes, each in spec order.
        return sorted(out, key=lambda d: (d.severity != MISMATCH, d.mark.line if d.mark else 0))

    def unsupported(self):
        for abi, why in self.facts.unsupported.items():
            self.add(NOTE, None, "", f"not compared on {abi}: the header refuses it ({why})")

    # -- documentation (docdrift) ---------------------------------------------
    def documentation(self):
        if self.docs is None:
            return
        for f in self.docs.findings:
            self.add(f.severity, f.mark, f.context, f.text)
        self.res.compared.update({k: v for k, v in self.docs.compared.items() if v})

    def _older_header(self) -> str | None:
        return _older_label(self.docs)

    def _node_finding(self, n, message: str):
        """A node's mismatch, or a note when the header's wording of it is an older release's."""
        older = self.docs.older_note(f"{n.side}/{n.name}") if self.docs else None
        if older:
            spec_rev = self.docs.follows.label if self.docs.follows else "another release"
            self.add(NOTE, n.mark, f"node '{n.name}' ({n.side})",
                     f"{message} [older documentation: {older}'s; the spec follows {spec_rev}]")
        else:
            self.add(MISMATCH, n.mark, f"node '{n.name}' ({n.side})", message)

    # -- constants ---------------------------------------------------------
    def constants(self):
        facts, spec = self.facts, self.spec
        abi_dependent = set(facts.abi_dependent_constants())
        for c in spec.constants:
            ctx = f"constant '{c.name}'"
            hc = facts.constants.get(c.name)
            if hc is None:
                self.add(NOTE, c.mark, ctx, "not defined by this header")
            elif hc.value != c.value:
                self.add(MISMATCH, c.mark, ctx,
                         f"value: spec {c.value!r}, header {hc.value!r} ({_hdr(facts, hc.line, hc.file)})")
        prefixes = tuple(spec.upstream.get("constant_prefixes", ()))
        for name, hc in sorted(facts.constants.items()):
            if name.startswith(prefixes) and spec.constant(name) is None and name not in abi_dependent:
                self.add(MISMATCH if facts.profile.canonical else NOTE, Mark(spec.file), f"constant '{name}'",
                         f"the header defines {name} = {hc.value!r} ({_hdr(facts, hc.line, hc.file)}), "
                         "which the spec lacks")
        self.res.compared["constants"] = len(spec.constants)

    # -- types -------------------------------------------------------------
    def types(self):
        for t in self.spec.types:
            ctx = f"type '{t.name}'"
            alias = self.facts.typedefs.get(t.name)
            if alias is None:
                self.add(NOTE, t.mark, ctx, "not defined by this header (or its includes)")
            elif alias.canonical != t.c_type:
                self.add(MISMATCH, t.mark, ctx,
                         f"underlying type: spec {t.c_type}, header {alias.canonical} "
                         f"({_hdr(self.facts, alias.line, alias.file)})")

    # -- structs -----------------------------------------------------------
    def structs(self):
        for s in self.spec.structs:
            for abi in self.abis:
                self.struct_on(s, abi)
        self.res.compared["structs"] = len(self.spec.structs)

    def _spec_leaves(self, s: Struct, abi: str) -> list[tuple]:
        lay = s.layouts[abi]
        leaves = []
        for f in s.fields_on(abi):
            one = (self.spec.struct(f.base).layouts[abi].size if f.is_struct else C_BASE_TYPES[f.base])
            ctype = f"struct {f.base}" if f.is_struct else f.base
            leaves.append((lay.offsets[f.name], one * (f.count or 1), ctype,
                           (f.count,) if f.count else (), f))
        return leaves

    def struct_on(self, s: Struct, abi: str):
        facts = self.facts
        ctx = f"struct '{s.name}'"
        kind = facts.profile.request_kinds.get(s.name)
        layouts = facts.layouts[abi]
        from xendrvgen.headers import wire
        if kind is not None:
            try:
                leaves = facts.wire_map(s.name, abi)
            except SpecError as e:
                self.add(MISMATCH, s.mark, ctx, e.diagnostics[0].message, abi)
                return
            top = layouts.get(kind.struct)
            selected = bool(kind.select)
        else:
            top = layouts.get(s.name)
            if top is None:
                self.add(MISMATCH, s.mark, ctx, "the header does not declare this struct", abi)
                return
            leaves = wire.wire_map(layouts, s.name, None, facts.profile.padding)
            selected = False
        lay = s.layouts[abi]
        where = _hdr(facts, top.line if top else None)
        if not selected and top is not None:
            if top.size != lay.size:
                self.add(MISMATCH, lay.mark, ctx, f"size: spec {lay.size}, header {top.size} ({where})", abi)
            if top.align != lay.align:
                self.add(MISMATCH, lay.mark, ctx, f"alignment: spec {lay.align}, header {top.align} ({where})", abi)
        elif top is not None:
            ring_req = self.spec.struct(self.spec.ring.request)
            want = ring_req.layouts[abi].size
            if top.size != want:
                self.add(MISMATCH, lay.mark, ctx,
                         f"size of the ring request: spec {want}, header {top.size} "
                         f"('{kind.struct}', {where})", abi)
        by_name = {}
        for leaf in leaves:
            by_name.setdefault(leaf.name, leaf)
        matched = set()
        for off, size, ctype, dims, f in self._spec_leaves(s, abi):
            fctx = f"struct '{s.name}' field '{f.name}'"
            h = by_name.get(f.name)
            if h is not None and id(h) not in matched:
                # Same name: offset, type and extent must agree.
                matched.add(id(h))
                diffs = []
                if h.offset != off:
                    diffs.append(f"offset: spec {off}, header {h.offset}")
                if h.type != ctype or tuple(h.dims) != tuple(dims) or h.size != size:
                    diffs.append(f"type: spec {_spell(ctype, dims)} ({size} bytes), "
                                 f"header {_spell(h.type, h.dims)} ({h.size} bytes)")
                if diffs:
                    self.add(MISMATCH, f.mark, fctx, "; ".join(diffs), abi)
                continue
            # Not by name: whatever the header puts at the same offset.
            h = next((x for x in leaves if x.offset == off and id(x) not in matched
                      and x.name not in {g.name for g in s.fields}), None)
            if h is None:
                if f.padding:
                    self.add(NOTE, f.mark, fctx, f"padding at offset {off} is absent from the header", abi)
                else:
                    self.add(MISMATCH, f.mark, fctx, f"not in the header (spec: {ctype} at offset {off})", abi)
                continue
            matched.add(id(h))
            if h.type != ctype or tuple(h.dims) != tuple(dims) or h.size != size:
                self.add(MISMATCH, f.mark, fctx,
                         f"at offset {off}: spec {_spell(ctype, dims)} '{f.name}', "
                         f"header {_spell(h.type, h.dims)} '{h.path}'", abi)
            elif h.padding or f.padding:
                self.add(NOTE, f.mark, fctx, f"the header calls this field '{h.path}' (padding)", abi)
            else:
                self.add(MISMATCH, f.mark, fctx, f"name at offset {off}: spec '{f.name}', header '{h.path}'", abi)
        for leaf in leaves:
            if id(leaf) in matched:
                continue
            msg = f"the header has '{leaf.path}' ({_spell(leaf.type, leaf.dims)}) at offset {leaf.offset}"
            if leaf.padding:
                self.add(NOTE, s.mark, ctx, msg + ", padding the spec does not list", abi)
            else:
                self.add(MISMATCH, s.mark, ctx, msg + ", which the spec lacks", abi)

    # -- ring --------------------------------------------------------------
    def ring(self):
        r = self.spec.ring
        ctx = f"ring '{r.name}'"
        for abi in self.abis:
            layouts = self.facts.layouts[abi]
            sring, entry = layouts.get(f"{r.name}_sring"), layouts.get(f"{r.name}_sring_entry")
            if sring is None or entry is None:
                self.add(MISMATCH, r.mark, ctx, f"the header does not define the {r.name} ring types "
                         "(DEFINE_RING_TYPES)", abi)
                continue
            ring_field = next((f for f in sring.fields if f.name == "ring"), None)
            if ring_field is None or ring_field.offset != r.header_size:
                got = ring_field.offset if ring_field else "none"
                self.add(MISMATCH, r.mark, ctx, f"offset of the first slot: spec {r.header_size}, header {got}", abi)
            want = r.layouts[abi]
            if entry.size != want.entry_size:
                self.add(MISMATCH, want.mark, ctx, f"slot size: spec {want.entry_size}, header {entry.size}", abi)

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
                self.add(MISMATCH, n.mark, ctx, f"the header documents this node ({_hdr(self.facts, doc.line)}); "
                         "set documented: true and compare its details")
                continue
            where = _hdr(self.facts, doc.line)
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
                     f"the header documents this node ({_hdr(self.facts, doc.line)}), which the spec lacks")
        spec_notes = {x.number for x in self.spec.notes}
        for num, note in sorted(docs.notes.items()):
            if num not in spec_notes:
                self.add(MISMATCH, Mark(self.spec.file), f"note {num}",
                         f"the header has note ({num}) ({_hdr(self.facts, note.line)}), which the spec lacks")
        older = self._older_header()
        for x in self.spec.notes:
            if x.number not in docs.notes:
                sev = NOTE if older or not self.facts.profile.canonical else MISMATCH
                why = f" [older documentation: {older}; the spec follows " \
                      f"{self.docs.follows.label}]" if older else ""
                self.add(sev, x.mark, f"note {x.number}", f"the header has no note ({x.number}){why}")
        self.res.compared["nodes"] = len(docs.nodes)


def _older_label(docs) -> str | None:
    """The release a header's documentation was recognised as (or is closest
    to), when that is older than the one the spec follows."""
    from xendrvgen.headers import docrevs
    if docs is None or docs.follows is None:
        return None
    older = [rev for st, rev in docs.status.values() if st == "older" and rev]
    if not older or any(st == "newer" for st, _ in docs.status.values()):
        return None
    return max(older, key=lambda r: docrevs.version_key(r.xen)).label


def _spell(ctype: str, dims) -> str:
    return ctype + "".join(f"[{d}]" for d in dims)


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
