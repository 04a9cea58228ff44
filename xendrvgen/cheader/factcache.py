"""On-disk cache of HeaderFacts, keyed by everything an analysis reads.

Installed headers rarely change, yet analysing one costs gcc and libclang runs
on four ABIs (~0.15 s a header).  An entry records every file the analysis
read (libclang's include list, the header, its companions, the profile) with
its size and modification time; a lookup stats them and reuses the facts only
when each is unchanged, the way ccache's direct mode does.  The key also
covers our own analysis code and the toolchain, so an upgrade of either
analyses afresh.  XENDRVGEN_NO_CACHE=1 turns the cache off.
"""
from __future__ import annotations

import copyreg
import hashlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from types import MappingProxyType

from .. import __version__

def _proxy(d: dict) -> MappingProxyType:
    return MappingProxyType(d)


# Facts hold read-only mappings; pickle them as the dicts they wrap.
copyreg.pickle(MappingProxyType, lambda m: (_proxy, (dict(m),)))

_FORMAT = 1


def enabled() -> bool:
    return not os.environ.get("XENDRVGEN_NO_CACHE")


def _cache_dir() -> Path:
    base = os.environ.get("XENDRVGEN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xendrvgen")
    return Path(base) / "header-facts"


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _code_stamp() -> list:
    """Our analysis code and the tools it runs: a change of any re-analyses."""
    here = Path(__file__).resolve().parent
    files = sorted(str(p) for p in here.glob("*.py"))
    try:
        import clang  # the libclang wheel: its library file identifies the version
        files += sorted(str(p) for p in Path(clang.__file__).parent.glob("native/*"))
    except ImportError:
        pass
    gcc = shutil.which("gcc")
    if gcc:
        files.append(os.path.realpath(gcc))
    return [(f, _stamp(f)) for f in files]


def _key(path: str, profile_name: str, abis: tuple[str, ...]) -> Path:
    h = hashlib.sha256(repr((_FORMAT, __version__, os.path.abspath(path), profile_name, abis,
                             _code_stamp())).encode())
    return _cache_dir() / f"{h.hexdigest()}.pickle"


def load(path: str, profile_name: str, abis: tuple[str, ...]):
    """The cached facts, or None when absent or any input file changed."""
    if not enabled():
        return None
    try:
        with open(_key(path, profile_name, abis), "rb") as f:
            entry = pickle.load(f)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return None
    if any(_stamp(p) != stamp for p, stamp in entry["files"]):
        return None
    return entry["facts"]


def store(facts, profile_name: str, abis: tuple[str, ...], files: set[str]) -> None:
    """Remember facts with the files they were read from (best effort)."""
    if not enabled():
        return
    entry = {"files": [(p, _stamp(p)) for p in sorted(files)], "facts": facts}
    if any(s is None for _, s in entry["files"]):
        return
    target = _key(facts.path, profile_name, abis)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except (OSError, pickle.PickleError, TypeError, AttributeError):
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
