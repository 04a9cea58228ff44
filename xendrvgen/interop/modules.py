"""The generated Linux pair, built with kbuild for the kernel the images boot.

`xendrvgen.compile` does the build (warnings are errors, an unchanged tree is
not rebuilt); the build directory is private to the generated tree given, so
a test building a modified copy never disturbs the project's own build.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from . import InteropError, MissingTool

NAMES = ("xen-blkfront", "xen-blkback")


@dataclass
class Pair:
    modules: dict            # name -> path of the .ko
    kdir: Path
    kver: str
    cached: bool
    seconds: float


class BuildFailed(Exception):
    """The generated drivers do not build: `lines` are the compiler's complaints."""

    def __init__(self, message: str, lines: list[str]):
        self.lines = lines
        super().__init__(message)


def build(generated: Path, work_root: Path, kdir: str | None = None) -> Pair:
    """Build generated/linux (generated = the root holding linux/)."""
    from ..compile import CompileError, LocalRunner, ToolchainMissing
    from ..compile import build as compile_build
    from ..compile.linux import find_kdir
    from .host import kernel_release

    generated = Path(generated)
    if not (generated / "linux").is_dir():
        raise InteropError(f"{generated}: no linux/ directory of generated sources "
                           "(--generated wants the root `xendrvgen generate` writes, e.g. generated/)")
    tag = hashlib.sha256(str(generated.resolve()).encode()).hexdigest()[:12]
    try:
        res = compile_build("linux", generated, work_dir=work_root / "modules" / tag, kdir=kdir)
    except ToolchainMissing as exc:
        raise MissingTool(str(exc)) from None
    except CompileError as exc:
        raise InteropError(str(exc)) from None
    if not res.ok:
        raise BuildFailed(f"the generated Linux drivers in {generated / 'linux'} do not build",
                          (res.errors or res.warnings or res.log.splitlines())[:40])
    found = {Path(a).name.removesuffix(".ko"): Path(a) for a in res.artifacts}
    missing = [n for n in NAMES if n not in found]
    if missing:
        raise InteropError(f"the build of {generated / 'linux'} made no {', '.join(m + '.ko' for m in missing)}")
    kd = find_kdir(SimpleNamespace(kdir=Path(kdir) if kdir else None, tree=None, runner=LocalRunner()))
    return Pair({n: found[n] for n in NAMES}, kd, kernel_release(kd), res.cached, res.seconds)
