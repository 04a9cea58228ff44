"""The documentation of a header compared with the spec: units, minimum and
wording of each documented node and ring field, and which Xen release the
wording comes from (headers/docrevs.py).

Each documented item of the header is one of:

  same     its wording is that of the Xen release the spec follows
           (upstream.xen_version);
  older    it matches only older releases: the header predates the spec
           (Debian's 4.17 against a spec that follows 4.20) - a note, named
           and explained, never a silent pass;
  newer    it matches only newer releases: the spec is behind - a mismatch;
  changed  it matches no release: a changed sentence - a mismatch in Xen's
           own header, a note in a vendored copy (its own words).

A unit or minimum the header states that differs from the spec's is a
finding of its own, at the severity of the item's state (a mismatch when
the wording is the spec's own release or unknown).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xendrvgen.headers import docrevs
from xendrvgen.headers.doctext import fingerprints, minimum_of, sentences, unit_of, fingerprint
from xendrvgen.base.diagnostics import MISMATCH, NOTE, Mark

SAME, OLDER, NEWER, CHANGED = "same", "older", "newer", "changed"


@dataclass
class Finding:
    severity: str
    key: str                  # the header item: backend/sectors, note 12, blkif_request.sector_number
    what: str                 # units, minimum, wording
    mark: Mark | None         # the spec element
    context: str
    message: str
    spec: str = ""            # the spec's value, for diff-header's table
    header: str = ""          # the header's value
    where: str = ""           # header file:line
    why: str = ""             # " [older documentation: ...]" when the item's state explains it

    @property
    def text(self) -> str:
        return self.message + self.why


@dataclass
class DocReport:
    label: str                                    # what the documentation was recognised as
    follows: docrevs.Revision | None
    status: dict = field(default_factory=dict)    # key -> (state, revision or None)
    findings: list = field(default_factory=list)
    compared: dict = field(default_factory=dict)  # "node docs": n, "field docs": n, ...

    def state(self, key: str) -> str | None:
        return self.status[key][0] if key in self.status else None

    def older_note(self, key: str) -> str | None:
        """'Xen 4.17 to 4.19' when this item is older wording, else None."""
        st = self.status.get(key)
        return st[1].label if st and st[0] == OLDER and st[1] else None


def compare(spec, facts, baseline: docrevs.Baseline | None = None) -> DocReport | None:
    """None when the header's profile reads no documentation."""
    if facts.node_docs is None and facts.field_docs is None:
        return None
    baseline = baseline or docrevs.load()
    follows = baseline.follows(spec.upstream.get("xen_version"))
    items = docrevs.header_items(facts.node_docs, facts.field_docs)
    best, differ = baseline.recognise(items)
    if facts.node_docs is None:
        label = "no XenStore node documentation (ring field comments only)"
    elif best is not None and differ == 0:
        label = f"documentation of {best.label}"
    elif best is not None:
        label = f"documentation of no known Xen release (closest: {best.label}, {differ} items differ)"
    else:
        label = "documentation of no known Xen release"
    rep = DocReport(label, follows)
    for key, fps in items.items():
        rep.status[key] = _state(baseline, follows, key, fps)
    _Pass(spec, facts, rep, facts.profile.canonical).run()
    return rep


def _state(baseline, follows, key: str, fps) -> tuple:
    if follows is not None and follows.items.get(key) == fps:
        return SAME, follows
    found = baseline.matching(key, fps)
    if not found:
        return CHANGED, None
    if follows is None:
        return OLDER, found[-1]
    newer = [r for r in found if docrevs.version_key(r.xen) > docrevs.version_key(follows.xen)]
    return (NEWER, newer[0]) if newer else (OLDER, found[-1])


class _Pass:
    def __init__(self, spec, facts, rep: DocReport, canonical: bool):
        self.spec, self.facts, self.rep, self.canonical = spec, facts, rep, canonical

    def where(self, line: int) -> str:
        return f"{self.facts.path}:{line}"

    def severity(self, key: str) -> str:
        state = self.rep.state(key)
        return NOTE if state == OLDER or (state == CHANGED and not self.canonical) else MISMATCH

    def because(self, key: str) -> str:
        st, rev = self.rep.status.get(key, (None, None))
        follows = self.rep.follows.label if self.rep.follows else "no known release"
        if st == OLDER:
            return f" [older documentation: {rev.label}'s; the spec follows {follows}]"
        if st == NEWER:
            return f" [newer documentation: {rev.label}'s; the spec follows {follows}: update the spec]"
        return ""

    def add(self, key, what, mark, ctx, message, spec_v="", header_v="", where="", severity=None):
        self.rep.findings.append(Finding(severity or self.severity(key), key, what, mark, ctx,
                                         message, spec_v, header_v, where, self.because(key)))

    def run(self) -> None:
        docs, fdocs = self.facts.node_docs, self.facts.field_docs or {}
        n_nodes = n_fields = n_units = 0
        if docs is not None:
            for n in self.spec.nodes:
                doc = docs.find(n.name, n.side)
                if doc is None or not n.documented:
                    continue                          # validate's node comparison reports these
                n_nodes += 1
                key = docrevs.node_key(n.side, n.name)
                ctx = f"node '{n.name}' ({n.side})"
                n_units += self.units(key, n.units, doc.text, n.mark, ctx, doc.line)
                self.minimum(key, n, doc)
                self.wording(key, doc.text, n.mark, ctx, doc.line, docrevs.node_fingerprints(doc))
            for num, note in docs.notes.items():
                spec_note = next((x for x in self.spec.notes if x.number == num), None)
                if spec_note is not None:
                    self.wording(docrevs.note_key(num), note.text, spec_note.mark, f"note {num}", note.line)
        for s in self.spec.structs:
            for f in s.fields:
                doc = fdocs.get(f"{s.name}.{f.name}")
                if doc is None:
                    continue
                n_fields += 1
                ctx = f"struct '{s.name}' field '{f.name}'"
                n_units += self.units(doc.key, f.units, doc.text, f.mark, ctx, doc.line)
                self.wording(doc.key, doc.text, f.mark, ctx, doc.line)
        self.rep.compared = {"node docs": n_nodes, "field docs": n_fields, "units": n_units}

    def units(self, key, units, text, mark, ctx, line) -> int:
        said = unit_of(text)
        if said is None or units is None:
            return 0
        if said[0] != units:
            self.add(key, "units", mark, ctx,
                     f"units: spec {units}, header {said[0]} ('{said[1]}', {self.where(line)})",
                     units, said[0], self.where(line))
        return 1

    def minimum(self, key, n, doc) -> None:
        low = minimum_of(doc.text)
        if low is not None and isinstance(n.min, int) and low != n.min:
            self.add(key, "minimum", n.mark, f"node '{n.name}' ({n.side})",
                     f"minimum: spec {n.min}, header {low} ({self.where(doc.line)})",
                     str(n.min), str(low), self.where(doc.line))

    def wording(self, key, text, mark, ctx, line, fps=None) -> None:
        st, rev = self.rep.status.get(key, (SAME, None))
        if st == SAME or (st == OLDER and any(f.key == key for f in self.rep.findings)):
            return                    # older: its units or minimum finding says what changed
        follows = self.rep.follows
        known = set(follows.items.get(key, ())) if follows else set()
        new = [s for s in sentences(text) if fingerprint(s) not in known and s.strip()]
        gone = len(known - set(fps if fps is not None else fingerprints(text)))
        if st == CHANGED and follows is not None and key not in follows.items:
            what = "wording found in no Xen release"
        elif st == CHANGED:
            what = f"changed wording against {follows.label if follows else 'every known release'}"
        else:
            what = "wording"
        detail = f"{len(new)} sentence{'s' if len(new) != 1 else ''} not in the spec's release"
        if new:
            first = new[0] if len(new[0]) <= 160 else new[0][:157] + "..."
            detail += f", first: \"{first}\""
        if gone:
            detail += f"; {gone} sentence{'s' if gone != 1 else ''} of the spec's release missing"
        self.add(key, "wording", mark, ctx, f"{what} ({self.where(line)}): {detail}",
                 "", first if new else "", self.where(line))
