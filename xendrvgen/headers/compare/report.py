"""What validate reports: the result of comparing the spec with one header
(HeaderResult), the report over every header (Report: text, JSON or GitHub
annotations), and how a place in the header is written."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from xendrvgen.base.diagnostics import Diagnostic, MISMATCH, render


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
    # ((file, sha256), ...) of every file the header analyses read; None when
    # unknown (then the verdict is not remembered, see verdictcache.py)
    sources: tuple | None = None

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


def header_position(facts, line: int | None, file: str | None = None) -> str:
    return f"{file or facts.path}:{line}" if line else (file or facts.path)
