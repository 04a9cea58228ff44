"""Reading and writing the files of xendrvgen's caches.

Whatever sits in a cache directory may be damaged, stray or planted: it is
read only as bytes, only from a regular file and only up to a size limit
(a FIFO would block, a device or a huge file would never end), and written
by an atomic rename (a planted symlink is replaced, not followed).  An
entry is sealed with the sha256 of its body, so damage reads as a miss.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path


def read(path: Path | str, limit: int) -> bytes | None:
    """The content of a regular file of at most `limit` bytes, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):       # ValueError: a NUL in the path
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        data = b""
        while len(data) <= limit:       # the file may grow or shrink meanwhile
            chunk = os.read(fd, min(st.st_size, limit) + 1)
            if not chunk:
                return data
            data += chunk
        return None
    except OSError:
        return None
    finally:
        os.close(fd)


def digest(path: Path | str, limit: int) -> str | None:
    """The sha256 (hex) of what read() returns, else None."""
    data = read(path, limit)
    return None if data is None else hashlib.sha256(data).hexdigest()


def write(path: Path, data: bytes) -> None:
    """Replace the file atomically (best effort: a read-only cache only costs time)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def seal(tag: bytes, body: bytes) -> bytes:
    """An entry: a line `<tag> sha256=<hex of body>`, then the body."""
    return tag + b" sha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def unseal(tag: bytes, data: bytes | None) -> bytes | None:
    """The body of seal()'s output, or None when the checksum does not hold
    (a flipped byte, a truncated write, another cache's or a stray file)."""
    if data is None:
        return None
    head, nl, body = data.partition(b"\n")
    if not nl or head != tag + b" sha256=" + hashlib.sha256(body).hexdigest().encode():
        return None
    return body
