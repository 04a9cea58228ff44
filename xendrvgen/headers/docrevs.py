"""Which Xen release a header's documentation comes from.

specs/headers/docs/xen-blkif.yaml holds, per Xen release whose blkif.h documents
its nodes, the fingerprints (doctext.fingerprint: hashes, no text) of every
documented item: each node (its Values/Default/Maximum/Notes lines and its
sentences), each numbered note, each ring field.  A header's items are
compared with them: the release whose items all match is the one the
header was recognised as; an item matching only an older release than the
one the spec follows is older wording, not a mismatch.

    xendrvgen diff-header XEN/include/public/io/blkif.h --record-docs 4.20

records a release (a header whose items equal an existing release's extends
that release's range).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Mapping

from xendrvgen.base.diagnostics import Mark, error
from xendrvgen.base.paths import DOC_BASELINE
from xendrvgen.base.yamldoc import load_text, read_bounded
from .doctext import fingerprints

BASELINE = DOC_BASELINE
FORMAT = 1      # bump with any change of doctext's normalisation (it changes every hash)


def version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


@dataclass(frozen=True)
class Revision:
    xen: str                                   # first release with this documentation
    until: str                                 # last release known to keep it
    items: Mapping[str, tuple[str, ...]]

    @property
    def label(self) -> str:
        return f"Xen {self.xen}" if self.until == self.xen else f"Xen {self.xen} to {self.until}"


@dataclass
class Baseline:
    path: str
    revisions: list[Revision] = field(default_factory=list)     # oldest first

    def follows(self, xen_version: str | None) -> Revision | None:
        """The revision a spec written for this Xen release follows."""
        if not xen_version:
            return None
        fits = [r for r in self.revisions if version_key(r.xen) <= version_key(xen_version)]
        return fits[-1] if fits else None

    def matching(self, key: str, fps: tuple[str, ...]) -> list[Revision]:
        return [r for r in self.revisions if r.items.get(key) == fps]

    def recognise(self, items: Mapping[str, tuple[str, ...]]) -> tuple[Revision | None, int]:
        """(the revision whose items equal all of these, or the closest; how many differ)."""
        best, differ = None, None
        for r in self.revisions:
            n = sum(r.items.get(k) != v for k, v in items.items()) + sum(k not in items for k in r.items)
            if differ is None or n < differ or (n == differ and best is not None):
                best, differ = r, n
        return best, differ or 0


def node_key(side: str, name: str) -> str:
    return f"{side}/{name}"


def note_key(number: int) -> str:
    return f"note {number}"


def node_fingerprints(doc) -> tuple[str, ...]:
    """A node's attribute lines, then its sentences."""
    attrs = [f"values {doc.values}", f"default {doc.default or ''}", f"maximum {doc.maximum or ''}",
             "notes " + " ".join(["deprecated"] * doc.deprecated + [str(n) for n in sorted(doc.notes)])]
    return fingerprints("\n\n".join(attrs)) + fingerprints(doc.text)


def header_items(node_docs, field_docs) -> dict[str, tuple[str, ...]]:
    """Every documented item of a header: key -> fingerprints."""
    items: dict[str, tuple[str, ...]] = {}
    if node_docs is not None:
        for d in node_docs.nodes:
            items[node_key(d.side, d.name)] = node_fingerprints(d)
        for n in node_docs.notes.values():
            items[note_key(n.number)] = fingerprints(n.text)
    for key, d in (field_docs or {}).items():
        items[key] = fingerprints(d.text)
    return items


def load(path: str | os.PathLike | None = None) -> Baseline:
    path = str(path or BASELINE)
    try:
        doc = load_text(read_bounded(path), path)
    except OSError as e:
        raise error(f"cannot read the documentation baseline: {e.strerror}", Mark(path)) from None
    data = doc.data
    ok = isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("revisions"), list)
    revs = []
    for i, r in enumerate(data.get("revisions", []) if ok else []):
        items = r.get("items") if isinstance(r, dict) else None
        if not (isinstance(items, dict) and isinstance(r.get("xen"), str)
                and all(isinstance(v, list) and all(isinstance(h, str) for h in v) for v in items.values())):
            raise error("a revision needs xen: VERSION and items: {KEY: [HASH, ...]}",
                        doc.mark(("revisions", i)))
        revs.append(Revision(r["xen"], str(r.get("until", r["xen"])),
                             {str(k): tuple(v) for k, v in items.items()}))
    if not ok:
        raise error(f"not a documentation baseline of format {FORMAT} (re-record it with "
                    "diff-header --record-docs)", Mark(path, 1, 1))
    revs.sort(key=lambda r: version_key(r.xen))
    return Baseline(path, revs)


def record(baseline: Baseline, xen: str, items: Mapping[str, tuple[str, ...]]) -> str:
    """Add a release to the baseline and write it; says what it did."""
    if not re.fullmatch(r"\d+(\.\d+)*", xen):
        raise error(f"--record-docs {xen!r}: give the Xen release, such as 4.20", Mark("--record-docs"))
    same = next((r for r in baseline.revisions if dict(r.items) == dict(items)), None)
    revs = [r for r in baseline.revisions if r is not same and r.xen != xen]
    if same is not None:
        lo, hi = sorted([same.xen, same.until, xen], key=version_key)[::2]
        revs.append(Revision(lo, hi, same.items))
        what = f"same documentation as {same.label}: now {Revision(lo, hi, {}).label}"
    else:
        revs.append(Revision(xen, xen, dict(items)))
        what = f"recorded Xen {xen} ({len(items)} items)"
    revs.sort(key=lambda r: version_key(r.xen))
    _write(baseline.path, revs)
    baseline.revisions = revs
    return what


def _write(path: str, revs: list[Revision]) -> None:
    out = ["# Fingerprints of the documentation in Xen's public io/blkif.h, per release",
           "# (xendrvgen/headers/docrevs.py): 8-hex-digit hashes of normalised sentences,",
           "# no upstream text.  Written by `xendrvgen diff-header HEADER --record-docs VERSION`.",
           f"format: {FORMAT}", "revisions:"]
    for r in revs:
        out += [f'  - xen: "{r.xen}"', f'    until: "{r.until}"', "    items:"]
        out += [f'      "{k}": [' + ", ".join(f'"{h}"' for h in v) + "]" for k, v in sorted(r.items.items())]
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)
