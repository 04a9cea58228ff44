"""Where the project's own files live, and how a spec is named in output.

Templates and OS profiles sit in the source tree beside the package
(`templates/`, `specs/os/`); the defaults below find them from this file, so
the tool works from any working directory.  Commands accept overrides.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = ROOT / "templates"
PROFILES_DIR = ROOT / "specs" / "os"
DEFAULT_OUT = "generated"

_ROOT_MARKERS = (".git", "pyproject.toml")


def project_root_of(path: str | Path) -> Path | None:
    """The nearest ancestor of `path` that holds .git or pyproject.toml."""
    p = Path(os.path.abspath(path)).parent
    for d in (p, *p.parents):
        if any((d / m).exists() for m in _ROOT_MARKERS):
            return d
    return None


def spec_display_name(path: str | Path) -> str:
    """How generated files name their spec: the same on every machine.

    The path relative to the project the spec belongs to (the nearest
    ancestor with .git or pyproject.toml), with '/' separators; a spec that
    belongs to no project is named by its file name alone.  Neither the
    working directory nor the output directory changes it.  A spec read from
    git (`HEAD:specs/blkif.yaml`) keeps that name.
    """
    text = str(path)
    if ":" in text and not os.path.exists(text) and not Path(text).is_absolute():
        return text
    root = project_root_of(path)
    absolute = Path(os.path.abspath(path))
    if root is not None:
        try:
            return PurePosixPath(absolute.relative_to(root).as_posix()).as_posix()
        except ValueError:
            pass
    return absolute.name
