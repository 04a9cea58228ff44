"""File operations below a root that never follow a symbolic link there.

writer.preflight() refuses links in the output tree before a run starts, but
a link could be put in place of a directory between that check and the
writes (by a concurrent process or a hostile build step).  So the writes
themselves go through directory descriptors: each path component below the
root is opened with O_NOFOLLOW | O_DIRECTORY, and files are created, read,
renamed and removed relative to the descriptor of their directory, which
cannot be redirected afterwards.  A link met on the way raises LinkInTheWay.
The root itself may be a link (the user's choice of output directory).
"""
from __future__ import annotations

import errno
import os
import secrets
import stat
from contextlib import contextmanager
from typing import Iterator

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class LinkInTheWay(Exception):
    """A path component below the root is a symbolic link."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


@contextmanager
def directory(root: str, rel_dir: str, create: bool = False) -> Iterator[int]:
    """A descriptor of root/rel_dir (POSIX relative path, '' for the root),
    opened one component at a time without following links; missing
    directories (the root too) are made when `create`.  Raises LinkInTheWay
    or OSError."""
    if create:
        os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    path = root
    try:
        for part in [p for p in rel_dir.split("/") if p]:
            path = os.path.join(path, part)
            if create:
                try:
                    os.mkdir(part, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, fd):
                    raise LinkInTheWay(path) from None
                raise
            os.close(fd)
            fd = nxt
        yield fd
    finally:
        os.close(fd)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def read(dir_fd: int, name: str, path: str) -> bytes | None:
    """The content of a regular file (None: absent); `path` names it in errors."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkInTheWay(path) from None
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read()


def create_temp(dir_fd: int, prefix: str, suffix: str, mode: int) -> tuple[int, str]:
    """A new file (descriptor, name) in the directory, made with O_EXCL so
    nothing already there, link or not, is opened."""
    while True:
        name = f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         mode, dir_fd=dir_fd)
        except FileExistsError:
            continue
        os.fchmod(fd, mode)                  # exactly `mode`, whatever the umask
        return fd, name


def rename(dir_fd: int, src: str, dst: str) -> None:
    """Atomically put src in dst's place in the same directory (a link at dst
    is replaced, never followed)."""
    os.replace(src, dst, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def unlink(dir_fd: int, name: str) -> None:
    """Remove a directory entry (a link is removed itself, never followed)."""
    os.unlink(name, dir_fd=dir_fd)
