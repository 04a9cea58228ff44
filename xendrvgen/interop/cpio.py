"""Initramfs archives (cpio "newc", gzip), written deterministically.

Entries are sorted, owned by root and dated 0, so the same tree gives the same
bytes.  Linux unpacks several gzip'd archives concatenated into one initrd,
later entries replacing earlier ones: that is how a cached base image gets the
scripts, modules and plan of a run laid over it.
"""
from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path


def _entry(ino: int, name: str, mode: int, data: bytes, nlink: int = 1) -> bytes:
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name_b
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def archive(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive of (path, st_mode, content) entries; a symlink's content is its target."""
    out = [_entry(i + 1, name.lstrip("/") or ".", mode, data, 2 if stat.S_ISDIR(mode) else 1)
           for i, (name, mode, data) in enumerate(entries)]
    out.append(_entry(0, "TRAILER!!!", 0, b""))
    return b"".join(out)


def tree_entries(root: Path) -> list[tuple[str, int, bytes]]:
    """Every directory, file and symlink under root, sorted by path."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                entries.append((rel, st.st_mode, os.readlink(p).encode()))
            elif stat.S_ISDIR(st.st_mode):
                entries.append((rel, st.st_mode, b""))
            elif stat.S_ISREG(st.st_mode):
                entries.append((rel, st.st_mode, p.read_bytes()))
    return sorted(entries)


def gz(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)
