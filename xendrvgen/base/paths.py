"""Where the project's own files live, and how a spec is named in output.

Templates and OS profiles sit in the source tree beside the package
(`templates/`, `specs/os/`); the defaults below find them from this file, so
the tool works from any working directory.  Commands accept overrides.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath


def _data_root() -> Path:
    """Where templates/ and specs/ are: the source tree (a checkout, or an
    editable install), else <prefix>/share/xendrvgen of a regular install
    (pre-commit installs the hook's repository that way)."""
    tree = Path(__file__).resolve().parents[2]
    if (tree / "templates").is_dir() and (tree / "specs" / "os").is_dir():
        return tree
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix, sys.exec_prefix)):
        share = Path(prefix) / "share" / "xendrvgen"
        if (share / "templates").is_dir():
            return share
    return tree


ROOT = _data_root()
TEMPLATES_DIR = ROOT / "templates"
PROFILES_DIR = ROOT / "specs" / "os"
HEADER_PROFILES_DIR = ROOT / "specs" / "headers"          # one YAML per kind of blkif.h copy
DOC_BASELINE = HEADER_PROFILES_DIR / "docs" / "xen-blkif.yaml"   # documentation revisions of Xen's copy
DEFAULT_OUT = "generated"

_ROOT_MARKERS = (".git", "pyproject.toml")


def cache_dir() -> Path:
    """Where every cache of xendrvgen lives: $XENDRVGEN_CACHE_DIR, else
    $XDG_CACHE_HOME/xendrvgen, else ~/.cache/xendrvgen."""
    own = os.environ.get("XENDRVGEN_CACHE_DIR")
    if own:
        return Path(own)
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")) / "xendrvgen"


def profile_names(profiles_dir: str | Path = PROFILES_DIR) -> list[str]:
    """The OS names with a profile (<name>.yaml) in profiles_dir, sorted."""
    return sorted(p.stem for p in Path(profiles_dir).glob("*.yaml"))


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
    working directory nor the output directory changes it.  A name that is
    no file from the working directory is taken to be a display name
    already (so applying this twice changes nothing), as is git's
    `HEAD:specs/blkif.yaml`.
    """
    text = str(path)
    if not Path(text).is_absolute() and not os.path.exists(text):
        # Not a file from here: already a display name (or git's HEAD:path).
        return PurePosixPath(text.replace(os.sep, "/")).as_posix() if ":" not in text else text
    root = project_root_of(path)
    absolute = Path(os.path.abspath(path))
    if root is not None:
        try:
            return PurePosixPath(absolute.relative_to(root).as_posix()).as_posix()
        except ValueError:
            pass
    return absolute.name


def shown(path: str | Path) -> str:
    """A path as messages show it: relative to the working directory when
    inside it (so editors can open file:line:col), else absolute."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute == cwd or absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return absolute
