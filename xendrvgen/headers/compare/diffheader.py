"""`xendrvgen diff-header FILE`: what a copy of blkif.h lacks or gets wrong.

For any copy (an OS tree's vendored one, QEMU's, an old release) this reads
the header with xendrvgen.headers (pycparser for names and values, libclang
for per-ABI layouts; the header profile says how the copy is shaped) and
lists, each with the spec's value and the header's:

  constants  missing from the copy, or with another value (opcodes first);
             the copy's own BLKIF_/VDISK_/XEN_IO_PROTO_ names the spec lacks;
  types      typedefs missing or of another width, and types renamed (a
             field the spec types blkif_vdev_t spelled UINT16 in the copy);
  structs    structs (request kinds) the copy does not declare;
  layouts    per ABI: size, alignment, and each field's offset, width and
             name (a field the copy calls otherwise, or calls padding);
  ring       the slot size and the ring header per ABI;
  documentation  per documented node and ring field: the units, minimum and
             wording against the Xen release the spec follows, and which
             release the copy's documentation was recognised as (docdrift);
             older wording is listed as such ('<'), newer ('>').

The report ends by saying what it compared (and what it could not: ABIs
the copy refuses with #error, documentation a copy does not have).  Exit
status 1 when the copy lacks something or differs; names only the copy has,
and documentation of an older Xen release than the spec follows, are listed
but do not fail it (validate's verdict: they are notes there too).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from xendrvgen.base.diagnostics import SpecError
from xendrvgen.spec.model import C_BASE_TYPES, Spec, Struct

PREFIXES = ("BLKIF_", "VDISK_", "XEN_IO_PROTO_ABI_")
SECTIONS = ("constants", "types", "structs", "layouts", "ring", "documentation")


@dataclass(frozen=True)
class Item:
    section: str
    kind: str                  # missing, different, renamed, extra
    name: str
    spec: str                  # the spec's value ('' when the spec lacks it)
    header: str                # the header's value ('' when the header lacks it)
    where: str                 # spec file:line and/or header file:line
    abis: tuple = ()

    def text(self) -> str:
        sign = {"missing": "-", "different": "~", "renamed": "~", "extra": "+", "older": "<",
                "newer": ">"}[self.kind]
        on = f" on {', '.join(self.abis)}" if self.abis else ""
        if self.kind == "missing":
            body = f"missing from the header (spec: {self.spec})"
        elif self.kind == "extra":
            body = f"only in the header ({self.header})"
        elif self.kind == "renamed":
            body = f"renamed: spec {self.spec}, header {self.header}"
        elif self.kind in ("older", "newer") or self.section == "documentation":
            body = self.header
        else:
            body = f"spec {self.spec}, header {self.header}"
        return f"{sign} {self.name}{on}: {body}" + (f"  [{self.where}]" if self.where else "")


@dataclass
class HeaderDiff:
    path: str
    profile: str
    spec_name: str
    abis: tuple
    items: list = field(default_factory=list)
    # What `validate --header` finds wrong with the same header (MISMATCH
    # diagnostics): the two commands share one verdict, so a header that
    # validate rejects is never reported as agreeing.
    mismatches: list = field(default_factory=list)
    doc_title: str = ""                                # the documentation's release, for its title
    compared: list = field(default_factory=list)       # what was compared, in words
    not_compared: list = field(default_factory=list)   # and what could not be

    @property
    def differs(self) -> bool:
        return bool(self.mismatches) or any(i.kind not in ("extra", "older") for i in self.items)

    def render(self, fmt: str = "text") -> str:
        if fmt == "json":
            return json.dumps({
                "header": self.path, "profile": self.profile, "spec": self.spec_name,
                "abis": list(self.abis), "differs": self.differs,
                "compared": self.compared, "not_compared": self.not_compared,
                "validate": [d.as_dict() for d in self.mismatches],
                "items": [{"section": i.section, "kind": i.kind, "name": i.name, "spec": i.spec,
                           "header": i.header, "where": i.where, "abis": list(i.abis)} for i in self.items],
            }, indent=2)
        n = sum(i.kind not in ("extra", "older") for i in self.items)
        n_old = sum(i.kind == "older" for i in self.items)
        out = [f"{self.path} (header profile {self.profile}) against {self.spec_name}, "
               f"on {', '.join(self.abis)}:"]
        for sec in SECTIONS:
            items = [i for i in self.items if i.section == sec]
            if items:
                out.append(f"{sec.capitalize()}{self.doc_title if sec == 'documentation' else ''}:")
                out.extend("  " + i.text() for i in items)
        if self.mismatches:
            out.append(f"validate --header rejects this header ({len(self.mismatches)} "
                       f"mismatch{'es' if len(self.mismatches) != 1 else ''}):")
            out.extend("  " + d.text() for d in self.mismatches)
        out.append("Compared: " + "; ".join(self.compared) + ".")
        if self.not_compared:
            out.append("Not compared: " + "; ".join(self.not_compared) + ".")
        n_extra = len(self.items) - n - n_old
        tail = "".join([f", {n_old} item{'s' if n_old != 1 else ''} of older documentation (notes, as in validate)" if n_old else "",
                        f", and {n_extra} name{'s' if n_extra != 1 else ''} only the header has"
                        if n_extra else ""])
        if n:
            out.append(f"{n} difference{'s' if n != 1 else ''}{tail}")
        elif self.mismatches:
            out.append(f"No difference in the sections listed above{tail}; see the mismatches of validate.")
        else:
            out.append(f"No difference in what was compared{tail}.")
        return "\n".join(out)


def _abis_label(abis: list[str], every) -> tuple:
    return () if sorted(abis) == sorted(every) else tuple(a for a in every if a in abis)


class _Diff:
    def __init__(self, spec: Spec, facts, abis):
        self.spec, self.facts, self.abis = spec, facts, tuple(abis)
        self.items: list[Item] = []
        self._merge: dict = {}
        self.renames: dict = {}    # spec typedef -> header spelling -> ["struct.field", ...]

    def src(self, mark) -> str:
        return f"{self.spec.file}:{mark.line}" if mark and mark.line else self.spec.file

    def hdr(self, file, line) -> str:
        return f"{file or self.facts.path}:{line}" if line else (file or self.facts.path)

    def add(self, section, kind, name, spec_v, header_v, where, abi=None):
        """Record a finding; the same finding on several ABIs is listed once."""
        key = (section, kind, name, spec_v, header_v, where)
        if key not in self._merge:
            self._merge[key] = []
        if abi:
            self._merge[key].append(abi)

    def finish(self) -> list[Item]:
        out = []
        for (section, kind, name, s, h, where), abis in self._merge.items():
            out.append(Item(section, kind, name, s, h, where, _abis_label(abis, self.abis) if abis else ()))
        order = {s: i for i, s in enumerate(SECTIONS)}
        kinds = {"missing": 0, "different": 1, "newer": 1, "older": 1, "renamed": 2, "extra": 3}
        return sorted(out, key=lambda i: (order[i.section], kinds[i.kind]))

    # --- constants and types --------------------------------------------------
    def constants(self):
        hc = self.facts.constants
        groups = ["operation"] + [g for g in dict.fromkeys(c.group for c in self.spec.constants) if g != "operation"]
        for g in groups:
            for c in self.spec.constants_in(g):
                h = hc.get(c.name)
                if h is None:
                    if c.name not in set(self.facts.abi_dependent_constants()):
                        self.add("constants", "missing", c.name, f"{c.value!r} ({c.group})", "", self.src(c.mark))
                elif h.value != c.value:
                    self.add("constants", "different", c.name, repr(c.value), repr(h.value),
                             f"{self.src(c.mark)}, {self.hdr(h.file, h.line)}")
        for name, h in sorted(hc.items()):
            if name.startswith(PREFIXES) and self.spec.constant(name) is None \
                    and not name.endswith("_NATIVE"):
                self.add("constants", "extra", name, "", repr(h.value), self.hdr(h.file, h.line))

    def types(self):
        for t in self.spec.types:
            a = self.facts.typedefs.get(t.name)
            if a is None:
                renamed = self._renamed_to(t.name)
                if renamed:
                    self.add("types", "renamed", t.name, f"{t.name} ({t.c_type})", renamed, self.src(t.mark))
                else:
                    self.add("types", "missing", t.name, t.c_type, "", self.src(t.mark))
            elif a.canonical != t.c_type:
                self.add("types", "different", t.name, t.c_type, a.canonical,
                         f"{self.src(t.mark)}, {self.hdr(a.file, a.line)}")
            else:
                renamed = self._renamed_to(t.name)
                if renamed:
                    self.add("types", "renamed", t.name, t.name, renamed, self.src(t.mark))

    def _renamed_to(self, tname: str) -> str:
        """Spellings the header uses where the spec's fields say `tname`."""
        seen = self.renames.get(tname, {})
        return "; ".join(f"{sp} (in {', '.join(ws)})" for sp, ws in seen.items())

    def _cfield(self, abi: str, top: str, path: str):
        """The pycparser field at a dotted path from struct `top`, or None."""
        records = self.facts.structs.get(abi, {})
        rec = records.get(top)
        parts = path.split(".")
        for i, part in enumerate(parts):
            if rec is None:
                return None
            cf = next((f for f in rec.fields if f.name == part), None)
            if cf is None or i == len(parts) - 1:
                return cf
            tag = cf.canonical.split(" ", 1)[-1] if cf.canonical.startswith(("struct ", "union ")) else None
            rec = cf.record or (records.get(tag) if tag else None)
        return None

    def _note_spelling(self, s: Struct, f, abi: str, top: str, leaf) -> None:
        if self.spec.typedef(f.type) is None:
            return
        cf = self._cfield(abi, top, leaf.path)
        if cf is not None and cf.spelled != f.type and cf.canonical == f.base:
            where = self.renames.setdefault(f.type, {}).setdefault(cf.spelled, [])
            if f"{s.name}.{f.name}" not in where:
                where.append(f"{s.name}.{f.name}")

    # --- structs and layouts --------------------------------------------------
    def structs(self):
        from xendrvgen.headers import wire
        prof = self.facts.profile
        for s in self.spec.structs:
            kind = prof.request_kinds.get(s.name)
            tag = kind.struct if kind else s.name
            if all(tag not in self.facts.layouts.get(a, {}) for a in self.abis):
                self.add("structs", "missing", s.name, f"struct {s.name}", "", self.src(s.mark))
                continue
            for abi in self.abis:
                layouts = self.facts.layouts[abi]
                top = layouts.get(tag)
                if top is None:
                    self.add("structs", "missing", s.name, f"struct {s.name}", "", self.src(s.mark), abi)
                    continue
                try:
                    leaves = (self.facts.wire_map(s.name, abi) if kind else
                              wire.wire_map(layouts, s.name, None, prof.padding))
                except SpecError as e:
                    self.add("structs", "different", s.name, f"struct {s.name}",
                             e.diagnostics[0].message, self.src(s.mark), abi)
                    continue
                self.layout(s, abi, top, leaves, bool(kind and kind.select), tag)

    def layout(self, s: Struct, abi: str, top, leaves, selected: bool, tag: str):
        lay = s.layouts[abi]
        where = f"{self.src(lay.mark)}, {self.hdr(top.file, top.line)}"
        if not selected:
            if top.size != lay.size:
                self.add("layouts", "different", f"{s.name} size", str(lay.size), str(top.size), where, abi)
            if top.align != lay.align:
                self.add("layouts", "different", f"{s.name} alignment", str(lay.align), str(top.align), where, abi)
        by_name = {}
        for leaf in leaves:
            by_name.setdefault(leaf.name, leaf)
        used = set()
        names = {f.name for f in s.fields}
        for f in s.fields_on(abi):
            off = lay.offsets[f.name]
            one = self.spec.struct(f.base).layouts[abi].size if f.is_struct else C_BASE_TYPES[f.base]
            size = one * (f.count or 1)
            ctype = (f"struct {f.base}" if f.is_struct else f.base) + (f"[{f.count}]" if f.count else "")
            fwhere = self.src(f.mark)
            h = by_name.get(f.name)
            if h is None:
                h = next((x for x in leaves if x.offset == off and id(x) not in used and x.name not in names), None)
                if h is None:
                    if not f.padding:
                        self.add("layouts", "missing", f"{s.name}.{f.name}", f"{ctype} at offset {off}", "",
                                 fwhere, abi)
                    continue
                used.add(id(h))
                if h.size != size:
                    self.add("layouts", "different", f"{s.name}.{f.name}", f"{ctype} ({size} bytes) at {off}",
                             f"'{h.path}' {h.type} ({h.size} bytes)", fwhere, abi)
                elif not (f.padding and h.padding):
                    self.add("layouts", "renamed", f"{s.name}.{f.name}", f"'{f.name}' at offset {off}",
                             f"'{h.path}'" + (" (padding)" if h.padding else ""), fwhere, abi)
                continue
            used.add(id(h))
            self._note_spelling(s, f, abi, tag, h)
            if h.offset != off:
                self.add("layouts", "different", f"{s.name}.{f.name} offset", str(off), str(h.offset), fwhere, abi)
            if h.size != size:
                self.add("layouts", "different", f"{s.name}.{f.name} type", f"{ctype} ({size} bytes)",
                         f"{h.type} ({h.size} bytes)", fwhere, abi)
        for leaf in leaves:
            if id(leaf) not in used and not leaf.padding and leaf.name not in names:
                self.add("layouts", "extra", f"{s.name}.{leaf.path}", "",
                         f"{leaf.type} at offset {leaf.offset}", self.src(s.mark), abi)

    def ring(self):
        r = self.spec.ring
        for abi in self.abis:
            layouts = self.facts.layouts[abi]
            sring, entry = layouts.get(f"{r.name}_sring"), layouts.get(f"{r.name}_sring_entry")
            want = r.layouts[abi]
            if sring is None or entry is None:
                self.add("ring", "missing", f"{r.name} ring", "DEFINE_RING_TYPES", "", self.src(r.mark), abi)
                continue
            if entry.size != want.entry_size:
                self.add("ring", "different", f"{r.name} slot size", str(want.entry_size), str(entry.size),
                         self.src(want.mark), abi)
            first = next((f for f in sring.fields if f.name == "ring"), None)
            if first is None or first.offset != r.header_size:
                self.add("ring", "different", f"{r.name} ring header", f"{r.header_size} bytes",
                         f"{first.offset if first else 'no ring field'}", self.src(r.mark), abi)


def diff_header(spec: Spec, path: str, profile: str | None = None, abis=None, options=None) -> HeaderDiff:
    from xendrvgen import headers as cheader
    abis = tuple(abis or spec.abi_names)
    for a in abis:
        if a not in spec.abi_names:
            from xendrvgen.base.diagnostics import error
            raise error(f"unknown ABI '{a}' (the spec has: {', '.join(spec.abi_names)})")
    # Analysed on every ABI whatever is shown: the shared verdict below is
    # validate's, and which constants are per-ABI shows only across ABIs.
    facts = cheader.analyze(path, profile, tuple(spec.abi_names), options or cheader.HeaderOptions())
    abis = tuple(a for a in abis if a in facts.abis)     # not those the copy refuses (#error)
    d = _Diff(spec, facts, abis)
    d.constants()
    d.structs()
    d.types()
    d.ring()
    from . import docdrift
    from xendrvgen.base.diagnostics import MISMATCH
    from .validate import compare
    docs = docdrift.compare(spec, facts)
    shown = set()
    for f in docs.findings if docs else ():
        kind = {"older": "older", "newer": "newer"}.get(docs.state(f.key), "different")
        d.add("documentation", kind, f.context, f.spec, f.message, "")
        shown.add(f.text)
    findings = compare(spec, facts).findings
    for f in findings:           # what validate explains by older documentation (notes, flags)
        if f.severity != MISMATCH and "[older documentation" in f.message and f.message not in shown:
            d.add("documentation", "older", f.context, "", f.message.split(" [older documentation")[0],
                  f"{spec.file}:{f.mark.line}" if f.mark and f.mark.line else "")
    verdict = [f for f in findings if f.severity == MISMATCH and f.message not in shown]
    out = HeaderDiff(facts.path, facts.profile.name, spec.file, abis, d.finish(), verdict)
    out.compared, out.not_compared = _coverage(spec, facts, abis, docs)
    if docs is not None:
        follows = docs.follows.label if docs.follows else "no known release"
        out.doc_title = f" ({docs.label.replace('documentation of', 'recognised as')}; the spec follows {follows}; '<' older, '>' newer wording)"
    return out


def _coverage(spec: Spec, facts, abis, docs) -> tuple[list, list]:
    """What diff-header compared, and what it could not, in words."""
    done = [f"{len(spec.constants)} constants", f"{len(spec.types)} types",
            f"{len(spec.structs)} structs and their layouts on {', '.join(abis) or 'no ABI'}",
            "the ring"]
    missing = [f"{abi}, which the header refuses ({why})" for abi, why in facts.unsupported.items()]
    if facts.node_docs is not None:
        done.append(f"{len(facts.node_docs.nodes)} documented XenStore nodes and "
                    f"{len(facts.node_docs.notes)} notes (defaults, maxima, types, notes, flags)")
    else:
        missing.append("XenStore node documentation (this copy has none, or its profile reads none)")
    if docs is not None:
        c = docs.compared
        done.append(f"the documentation of {c.get('node docs', 0)} nodes and {c.get('field docs', 0)} "
                    f"ring fields ({c.get('units', 0)} stated units, minima, wording), {docs.label}")
    else:
        missing.append("the documentation of nodes and ring fields")
    return done, missing


def record_docs(path: str, version: str, profile: str | None = None, options=None) -> str:
    """Record a Xen release's documentation in the baseline (diff-header --record-docs)."""
    from xendrvgen import headers as cheader
    from xendrvgen.headers import docrevs
    baseline = docrevs.load()
    facts = cheader.analyze(path, profile, ("x86_64",), options or cheader.HeaderOptions())
    if facts.node_docs is None:
        from xendrvgen.base.diagnostics import Mark, error
        raise error("this header has no XenStore node documentation to record (is it Xen's own "
                    "xen/include/public/io/blkif.h?)", Mark(facts.path))
    items = docrevs.header_items(facts.node_docs, facts.field_docs)
    return f"{baseline.path}: " + docrevs.record(baseline, version, items)
