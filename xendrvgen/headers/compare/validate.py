"""Compare the spec with real copies of blkif.h, by wire layout on every ABI.

A copy may be shaped differently from Xen's (Linux folds the request kinds
into one packed struct with a union); what matters is which bytes at which
offset carry which field of which type.  A difference in meaning is a
MISMATCH (exit 1); something the copy lacks or names differently without
changing the wire is a NOTE.  Every finding names the spec element, the
spec's value, the header's value and the spec's file:line.

Here: the analysis started and the findings gathered per header, constants,
types, the ring and the documentation; structs are compared in
structcompare.py, XenStore nodes in nodecompare.py, and report.py holds
what is reported.
"""
from __future__ import annotations

from xendrvgen.base.diagnostics import MISMATCH, NOTE, Diagnostic, Mark, SpecError, error
from xendrvgen.spec.model import Spec
from .nodecompare import NodeChecks
from .report import HeaderResult, Report, header_position
from .structcompare import StructChecks


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
    results = [compare(spec, facts) for facts in pending.finish()]
    sources = None if any(r is None for r in pending.read) else \
        tuple(sorted({pair for read in pending.read for pair in read}))
    return Report(spec.file, results, sources)


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


class _Compare(StructChecks, NodeChecks):
    """The findings of one header; each part of the spec compared by a method."""

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
                         f"value: spec {c.value!r}, header {hc.value!r} ({header_position(facts, hc.line, hc.file)})")
        prefixes = tuple(spec.upstream.get("constant_prefixes", ()))
        for name, hc in sorted(facts.constants.items()):
            if name.startswith(prefixes) and spec.constant(name) is None and name not in abi_dependent:
                self.add(MISMATCH if facts.profile.canonical else NOTE, Mark(spec.file), f"constant '{name}'",
                         f"the header defines {name} = {hc.value!r} ({header_position(facts, hc.line, hc.file)}), "
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
                         f"({header_position(self.facts, alias.line, alias.file)})")


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


