"""The zig C compiler from the PyPI `ziglang` package, as a cross compiler.

`python -m ziglang cc -target <arch>-<os>` compiles for FreeBSD and NetBSD on
any Linux machine, against the BSD system headers that the package bundles
(`ziglang/lib/libc/include/`).  This module finds it, names its targets and
lists the include directories it searches, so that libclang (contract
verification) can parse with exactly the same headers.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from . import Runner, ToolchainMissing, tool_version

INSTALL = "pip install ziglang"


def package_dir() -> Path:
    spec = importlib.util.find_spec("ziglang")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainMissing("the zig C compiler (PyPI package 'ziglang') is not installed", INSTALL)
    return Path(list(spec.submodule_search_locations)[0])


def cc() -> list[str]:
    """The command that runs `zig cc`."""
    package_dir()
    return [sys.executable, "-m", "ziglang", "cc"]


def version(runner: Runner) -> str:
    package_dir()
    return "zig " + tool_version(runner, [sys.executable, "-m", "ziglang", "version"])


def system_includes(target: str) -> list[Path]:
    """The <...> search list zig uses for `target` (e.g. 'x86_64-freebsd'), in order."""
    arch, os_name = target.split("-", 1)
    libc = package_dir() / "lib" / "libc" / "include"
    return [package_dir() / "lib" / "include", libc / f"{arch}-{os_name}-none", libc / f"generic-{os_name}"]
