"""`xendrvgen interop`: run the generated Linux drivers in a real Xen.

A dom0 image and a guest image are assembled from Debian packages (image.py,
debs.py), the generated blkfront/blkback pair is built with kbuild
(modules.py), and Xen boots in QEMU (qemu.py) with a PV dom0 that runs every
pairing x scenario of the plan (scenarios.py) through the in-VM scripts under
interop/linux/, printing machine-readable result lines that report.py turns
into one line per result.  runner.py ties it together; the command is
xendrvgen/cli/interop.py.
"""
from __future__ import annotations


class InteropError(Exception):
    """Bad input or an environment that cannot run the harness (exit code 2)."""


class MissingTool(InteropError):
    """A host tool or package is missing; `package` is the Debian package that brings it."""

    def __init__(self, message: str, package: str | None = None):
        self.package = package
        hint = f" (install it with: apt-get install {package})" if package else ""
        super().__init__(message + hint)
