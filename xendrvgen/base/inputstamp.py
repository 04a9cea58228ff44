"""Fingerprints of what a cached result depends on besides its own inputs:
xendrvgen's own code, and the libraries and tools it runs.

The render cache and the validation-verdict cache key their entries on
these, so that an upgrade of xendrvgen, of a library (Jinja2, PyYAML,
pycparser, libclang) or of gcc computes afresh.  Our modules are hashed by
content (a checkout's files change without their size); a library's files
and a tool are stamped by size and mtime, the way package managers install
them.  Nothing here imports the libraries it stamps.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path

from . import cachefile

_MAX_MODULE = 16 << 20


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 over every module of the xendrvgen package (subpackages too, so
    a module that appears, such as an extension point, counts)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(f for f in filenames if f.endswith(".py")):
            path = os.path.join(dirpath, fn)
            data = cachefile.read(path, _MAX_MODULE)
            h.update(f"{os.path.relpath(path, root)}\0".encode())
            h.update(hashlib.sha256(data).digest() if data is not None else b"?")
    return h.hexdigest()


@functools.lru_cache(maxsize=8)
def library_stamp(names: tuple[str, ...]) -> list:
    """(name, [(file, size, mtime_ns)]) of each installed library, found
    without importing it: the files of its package directory, and for
    libclang its native library too."""
    import importlib.util
    out = []
    for name in names:
        found = importlib.util.find_spec(name)
        files = []
        if found is not None and found.origin:
            top = os.path.dirname(found.origin)
            for d in (top, os.path.join(top, "native")):
                if os.path.isdir(d):
                    with os.scandir(d) as it:
                        files += sorted((os.path.relpath(e.path, top), e.stat().st_size, e.stat().st_mtime_ns)
                                        for e in it if e.is_file())
        out.append([name, files])
    return out


def tool_stamp(name: str) -> list:
    """[path, size, mtime_ns] of a program on PATH (its real file), or [name, None]."""
    found = shutil.which(name)
    if not found:
        return [name, None]
    real = os.path.realpath(found)
    try:
        st = os.stat(real)
    except OSError:
        return [real, None]
    return [real, st.st_size, st.st_mtime_ns]
