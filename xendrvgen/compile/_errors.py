"""The errors of a compile: bad input (CompileError) and a missing toolchain
(ToolchainMissing, naming what installs it); re-exported by the package, and
here so the helpers the package imports lazily (_images) need not import it."""
from __future__ import annotations


class CompileError(Exception):
    """Bad input to a compile (unknown OS, missing generated files, bad --kdir)."""


class ToolchainMissing(CompileError):
    """A compiler, kernel tree or tool is not installed; `install` says what brings it."""

    def __init__(self, message: str, install: str | None = None):
        self.install = install
        super().__init__(message + (f" (install it with: {install})" if install else ""))
