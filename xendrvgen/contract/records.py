"""What a contract verification reports: a declaration (Decl), one finding per
name compared (Finding), and the report of one OS (Report: text or JSON)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


class ContractError(Exception):
    """Bad input: unknown OS, missing tree, libclang or toolchain missing."""


@dataclass
class Decl:
    name: str
    kind: str            # function | struct | union | typedef | enum | macro | var
    value: object        # normalised comparable form
    where: str           # file:line


@dataclass
class Finding:
    header: str
    name: str
    kind: str
    status: str          # ok | differs | missing | note
    contract: str = ""
    tree: str = ""
    contract_at: str = ""
    tree_at: str = ""
    detail: str = ""


@dataclass
class Report:
    os: str
    tree: str
    findings: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.status in ("differs", "missing") for f in self.findings)

    def counts(self) -> dict:
        out: dict = {}
        for f in self.findings:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    def render(self, fmt: str = "text") -> str:
        if fmt == "json":
            return json.dumps({"os": self.os, "tree": self.tree, "failed": self.failed,
                               "counts": self.counts(), "findings": [asdict(f) for f in self.findings]},
                              indent=2)
        lines = [f"contract verify: {self.os} against {self.tree}"]
        for f in self.findings:
            if f.status == "ok":
                continue
            head = f"{f.contract_at or f.header}: {f.status}: {f.kind} '{f.name}'"
            if f.detail:
                head += f": {f.detail}"
            lines.append(head)
            if f.status == "differs":
                lines.append(f"    contract: {f.contract}")
                lines.append(f"    tree:     {f.tree}" + (f"   ({f.tree_at})" if f.tree_at else ""))
        c = self.counts()
        lines.append(f"{c.get('ok', 0)} declarations match, {c.get('differs', 0)} differ, "
                     f"{c.get('missing', 0)} missing from the tree, {c.get('note', 0)} notes")
        return "\n".join(lines)
