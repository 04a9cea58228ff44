"""Compiler-style diagnostics shared by every stage.

A diagnostic names a file, a line and a column (1-based), the element of the
spec it is about, and a message.  Stages collect diagnostics instead of
stopping at the first one; the CLI prints them all and picks the exit code.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable

ERROR = "error"
MISMATCH = "mismatch"
NOTE = "note"

# The exit codes of every command: nothing wrong, a mismatch found, bad input,
# a bug of ours.
EXIT_OK, EXIT_MISMATCH, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


@dataclass(frozen=True)
class Mark:
    """A position in a file (1-based line and column; 0 when unknown)."""
    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    severity: str            # ERROR (bad input), MISMATCH (spec vs header), NOTE
    message: str
    mark: Mark | None = None
    context: str = ""        # e.g. "struct 'blkif_request'"

    def text(self) -> str:
        where = f"{self.mark}: " if self.mark else ""
        ctx = f"In {self.context}: " if self.context else ""
        prefix = "" if self.severity == ERROR else f"{self.severity}: "
        return f"{where}{prefix}{ctx}{self.message}"

    def as_dict(self) -> dict:
        d = {"severity": self.severity, "message": self.message, "context": self.context}
        if self.mark:
            d.update(file=self.mark.file, line=self.mark.line, column=self.mark.column)
        return d

    def github(self) -> str:
        level = {"note": "notice", "mismatch": "error"}.get(self.severity, "error")
        loc = ""
        if self.mark:
            loc = f" file={self.mark.file}"
            if self.mark.line:
                loc += f",line={self.mark.line}"
            if self.mark.column:
                loc += f",col={self.mark.column}"
        msg = (f"In {self.context}: " if self.context else "") + self.message
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{level}{loc}::{msg}"


class SpecError(Exception):
    """Raised to stop a stage when it cannot go on; carries every diagnostic so far."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.text() for d in self.diagnostics))


def error(message: str, mark: Mark | None = None, context: str = "") -> SpecError:
    return SpecError([Diagnostic(ERROR, message, mark, context)])


@dataclass
class Collector:
    """Gathers diagnostics of one run."""
    items: list[Diagnostic] = field(default_factory=list)

    def add(self, severity: str, message: str, mark: Mark | None = None, context: str = "") -> None:
        self.items.append(Diagnostic(severity, message, mark, context))

    def error(self, message: str, mark: Mark | None = None, context: str = "") -> None:
        self.add(ERROR, message, mark, context)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == ERROR]

    def raise_if_errors(self) -> None:
        errs = self.errors()
        if errs:
            raise SpecError(errs)


def render(diags: Iterable[Diagnostic], fmt: str = "text") -> str:
    diags = list(diags)
    if fmt == "json":
        return json.dumps([d.as_dict() for d in diags], indent=2)
    if fmt == "github":
        return "\n".join(d.github() for d in diags)
    return "\n".join(d.text() for d in diags)
