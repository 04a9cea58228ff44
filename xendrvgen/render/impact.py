"""`xendrvgen impact`: what a spec change does, before anyone regenerates.

Compares the working spec with the committed one (`git show HEAD:<path>`)
or with any other spec file: which elements change (spec/diff.py), which
generated files change and which C names in them, and, plainly, whether the
wire ABI changed on any ABI.  Both specs are rendered in memory with the
same spec name, and lines that only carry provenance (the banner's hashes,
`[specs/blkif.yaml:N]` references that moved) are ignored, so a file is
listed only when its C content changes.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from xendrvgen.spec import osprofile, diff as specdiff
from . import environment as render
from xendrvgen import spec as spec_mod
from xendrvgen.base.diagnostics import Mark, error
from xendrvgen.base.paths import PROFILES_DIR, TEMPLATES_DIR, spec_display_name

_IDENT = re.compile(r"#define\s+(\w+)|\b(?:struct|union)\s+(\w+)\s*\{|\b(\w+)\s*\(")


@dataclass(frozen=True)
class FileImpact:
    path: str
    added: int
    removed: int
    names: tuple               # C names on changed lines


@dataclass
class Impact:
    base_name: str
    new_name: str
    changes: list
    files: list = field(default_factory=list)
    total_files: int = 0
    verdict: dict = field(default_factory=dict)

    @property
    def wire_changed(self) -> bool:
        return any(v == "breaking" for v in self.verdict.values())

    def wire_sentence(self) -> str:
        broken = [a for a, v in self.verdict.items() if v == "breaking"]
        extended = [a for a, v in self.verdict.items() if v == "extension"]
        if broken:
            return (f"Wire ABI: CHANGED on {', '.join(broken)} -- peers built from the old spec "
                    "would misread requests or responses.")
        if extended:
            return ("Wire ABI: unchanged on every ABI; extended on "
                    f"{', '.join(extended)} (new values or structs that old peers never see "
                    "unless negotiated).")
        return "Wire ABI: unchanged on every ABI."

    def render(self, fmt: str = "text") -> str:
        if fmt == "json":
            return json.dumps({
                "base": self.base_name, "spec": self.new_name,
                "wire_abi": self.verdict, "wire_changed": self.wire_changed,
                "elements": [{"action": c.action, "kind": c.kind, "name": c.name, "detail": c.detail,
                              "wire": c.wire, "abis": list(c.abis),
                              "line": c.mark.line if c.mark else None} for c in self.changes],
                "files": [{"path": f.path, "added": f.added, "removed": f.removed, "names": list(f.names)}
                          for f in self.files],
                "files_rendered": self.total_files,
            }, indent=2)
        out = [f"Impact of {self.new_name} against {self.base_name}:", ""]
        if not self.changes:
            out.append("No element of the spec changed.")
        else:
            out.append(f"Elements ({len(self.changes)}):")
            out.extend("  " + c.text() for c in self.changes)
        out.append("")
        if self.files:
            out.append(f"Generated files whose content changes ({len(self.files)} of {self.total_files}):")
            for f in self.files:
                names = f"  ({', '.join(f.names)})" if f.names else ""
                out.append(f"  {f.path}: +{f.added} -{f.removed}{names}")
        else:
            out.append(f"No generated file changes beyond its banner and spec line references "
                       f"({self.total_files} files rendered).")
        out.append("")
        out.append(self.wire_sentence())
        for c in self.changes:
            if c.wire == "breaking":
                out.append(f"  {c.kind} {c.name}: {c.detail}")
        return "\n".join(out)


def load_committed(path: str) -> tuple[str, str]:
    """Text of the committed version of a spec (git HEAD), and its name."""
    d = os.path.dirname(os.path.abspath(path)) or "."
    try:
        proc = subprocess.run(["git", "-C", d, "show", f"HEAD:./{os.path.basename(path)}"],
                              capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise error("git is not installed, so the committed spec cannot be read; pass --base FILE",
                    Mark(path)) from None
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
        raise error(f"cannot read the committed version of the spec ({why}); pass --base FILE",
                    Mark(path))
    return proc.stdout, f"HEAD:{spec_display_name(path)}"




def _normalise(text: str, spec_names) -> list[str]:
    """Lines without provenance: banner hashes, and spec line references."""
    ref = re.compile("(?:" + "|".join(re.escape(n) for n in spec_names) + r"):\d+")
    out = []
    for ln in text.split("\n"):
        if "spec-sha256:" in ln or "file-sha256:" in ln:
            continue
        out.append(ref.sub("SPEC:N", ln))
    return out


def _names(lines: list[str]) -> list[str]:
    found: list[str] = []
    for ln in lines:
        for m in _IDENT.finditer(ln):
            name = next(g for g in m.groups() if g)
            if name in ("if", "for", "switch", "sizeof", "defined", "while", "return") or name in found:
                continue
            if m.group(3) and not name[:1].isupper() and "_" not in name:
                continue
            found.append(name)
    return found[:12]


def impact(new_path: str, base_path: str | None = None, *,
           profiles_dir: str | Path = PROFILES_DIR, templates_dir: str | Path = TEMPLATES_DIR) -> Impact:
    from .generate import load_spec_for_output
    new = load_spec_for_output(new_path)
    if base_path:
        old, base_name = load_spec_for_output(base_path), spec_display_name(base_path)
    else:
        text, base_name = load_committed(new_path)
        old = spec_mod.loads(text, base_name)
    changes = specdiff.diff(old, new)
    name = spec_display_name(new_path)
    names = (name, old.file)
    profiles = osprofile.load_many(None, profiles_dir)
    new_files = render.render_all(new, profiles, templates_dir=templates_dir, spec_name=name)
    old_files = {f.path: f for f in render.render_all(old, profiles, templates_dir=templates_dir, spec_name=name)}
    files = []
    for f in new_files:
        a = _normalise(old_files[f.path].text, names) if f.path in old_files else []
        b = _normalise(f.text, names)
        if a == b:
            continue
        plus, minus = [], []
        for ln in difflib.unified_diff(a, b, lineterm="", n=0):
            if ln.startswith("+") and not ln.startswith("+++"):
                plus.append(ln[1:])
            elif ln.startswith("-") and not ln.startswith("---"):
                minus.append(ln[1:])
        files.append(FileImpact(f"generated/{f.path}", len(plus), len(minus), tuple(_names(plus + minus))))
    res = Impact(base_name, name, changes, files, len(new_files),
                 specdiff.wire_verdict(changes, new.abi_names))
    return res
