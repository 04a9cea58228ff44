"""Which front/back pairs a `xendrvgen sim` run covers.

An --front/--back value names an OS (our driver, built as that OS) or a peer
personality; `pairs_for` turns the two values (and --peers) into the Pair
list to run, or an error message.  (Here, not in build: the parser of every
command reads FRONT_OSES and BACKEND_OSES, and build imports Jinja.)
"""
from __future__ import annotations

from . import personalities

FRONT_OSES = ("linux", "freebsd", "netbsd", "edk2")
# The OSes whose generated drivers have a backend.
BACKEND_OSES = ("linux", "freebsd", "netbsd")


def _side(value: str, oses, side: str):
    """(OS to build our driver as, driver name) for a --front/--back value, or None."""
    if value in oses:
        return value, "ours"
    p = personalities.BY_NAME.get(value)
    if p is not None and p.side == side:
        return None, value
    return None


def pairs_for(front: str, back: str, peers: bool):
    """The Pair list to run, or an error message."""
    from .scenarios import Pair
    f = _side(front, FRONT_OSES, "frontend")
    if f is None:
        return (f"unknown frontend '{front}': an OS ({', '.join(FRONT_OSES)}) or a frontend personality "
                f"({', '.join(personalities.names('frontend'))})")
    b = _side(back, BACKEND_OSES, "backend")
    if b is None:
        extra = " (EDK2 has no backend)" if back == "edk2" else ""
        return (f"unknown backend '{back}'{extra}: an OS ({', '.join(BACKEND_OSES)}) or a backend personality "
                f"({', '.join(personalities.names('backend'))})")
    fos, bos = f[0] or "linux", b[0] or "linux"
    pairs = [Pair(f[1], b[1], fos, bos)]
    if peers:
        pairs += [Pair("ours", n, fos, bos) for n in personalities.names("backend") if n != b[1]]
        pairs += [Pair(n, "ours", fos, bos) for n in personalities.names("frontend") if n != f[1]]
    return pairs
