"""The zig C compiler from the PyPI `ziglang` package, as a cross compiler.

`python -m ziglang cc -target <arch>-<os>` compiles for FreeBSD and NetBSD on
any Linux machine, against the BSD system headers that the package bundles
(`ziglang/lib/libc/include/`).  This module finds it, names its targets and
lists the include directories it searches, so that libclang (contract
verification) can parse with exactly the same headers.

A runner in a container image runs the image's own copy (`python3 -m
ziglang`; `xendrvgen image build` puts this machine's ziglang there), so the
machine running xendrvgen needs no ziglang of its own for such a build.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

# Only _errors of the package: _images (which the package imports lazily) uses this module.
from ._errors import ToolchainMissing

INSTALL = "pip install ziglang"
IMAGE_PYTHON = "python3"         # Debian's, in an image of `xendrvgen image build`


def installed_version() -> str | None:
    """The version of the ziglang package installed here (None: not installed)."""
    try:
        return importlib.metadata.version("ziglang")
    except importlib.metadata.PackageNotFoundError:
        return None


def package_dir() -> Path:
    spec = importlib.util.find_spec("ziglang")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainMissing("the zig C compiler (PyPI package 'ziglang') is not installed", INSTALL)
    return Path(list(spec.submodule_search_locations)[0])


def _zig(runner) -> list[str]:
    if runner is None or runner.image is None:
        package_dir()
        return [sys.executable, "-m", "ziglang"]
    return [IMAGE_PYTHON, "-m", "ziglang"]


def cc(runner=None) -> list[str]:
    """The command that runs `zig cc` through `runner` (a compile Runner; in
    its image, the image's zig; None: this machine's)."""
    return [*_zig(runner), "cc"]


def version(runner) -> str:
    """'zig X.Y.Z', as the runner's zig says (an image's own)."""
    cmd = [*_zig(runner), "version"]
    rc, out = runner.probe(cmd)
    if rc != 0 or not out.strip():
        said = f"`{Path(cmd[0]).name} -m ziglang version` fails"
        if runner.image:
            raise ToolchainMissing(f"{said} in the image {runner.image} (the images of `xendrvgen image build` "
                                   f"carry zig): {out.strip()[-300:]}")
        raise ToolchainMissing(f"{said}: {out.strip()[-300:]}", INSTALL)
    return "zig " + out.splitlines()[0].strip()


def system_includes(target: str) -> list[Path]:
    """The <...> search list zig uses for `target` (e.g. 'x86_64-freebsd'), in order."""
    arch, os_name = target.split("-", 1)
    libc = package_dir() / "lib" / "libc" / "include"
    return [package_dir() / "lib" / "include", libc / f"{arch}-{os_name}-none", libc / f"generic-{os_name}"]
