"""The Debian packages the images are made of: which exact files, and fetching them.

`apt-get download --print-uris` names the candidate .deb of each package with
its size and SHA-256 without downloading anything, so the image recipe can be
hashed before anything is fetched.  Downloads go to a private directory and
are moved into the cache only once apt-get has verified them.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import InteropError, MissingTool
from .host import run, which

XEN = "4.17"


def packages(kver: str) -> list[str]:
    """Hypervisor, toolstack and its libraries, and the kernel matching the headers."""
    return [
        f"xen-hypervisor-{XEN}-amd64", f"xen-utils-{XEN}", "xen-utils-common", "xenstore-utils",
        f"linux-image-{kver}",
        f"libxenmisc{XEN}", "libxencall1", "libxenevtchn1", "libxenforeignmemory1", "libxengnttab1",
        "libxenstore4", "libxentoollog1", "libyajl2", "libxenhypfs1", "libxendevicemodel1",
        "libxentoolcore1",
    ]


@dataclass(frozen=True)
class Deb:
    package: str
    filename: str
    size: int
    sha256: str

    @property
    def identity(self) -> str:
        return f"{self.filename} {self.size} {self.sha256}"


_URI = re.compile(r"^'(?P<url>[^']+)' (?P<file>\S+\.deb) (?P<size>\d+) SHA256:(?P<sha>[0-9a-f]{64})$")


def resolve(names: list[str]) -> list[Deb]:
    """The .deb apt would download for each package (no download)."""
    which("apt-get")
    p = run(["apt-get", "download", "--print-uris", *names])
    if p.returncode != 0:
        missing = re.findall(r"Unable to locate package (\S+)", p.stderr)
        hint = (f"apt cannot find {', '.join(missing)}: run `apt-get update` (they come from Debian "
                "bookworm main and bookworm-security)") if missing else p.stderr.strip()
        raise InteropError(f"cannot resolve the image packages: {hint}")
    debs = []
    for line in p.stdout.splitlines():
        m = _URI.match(line.strip())
        if m:
            name = m["file"].split("_", 1)[0]
            debs.append(Deb(name, m["file"], int(m["size"]), m["sha"]))
    found = {d.package for d in debs}
    lost = [n for n in names if n not in found]
    if lost:
        raise InteropError(f"apt-get names no .deb for {', '.join(lost)}")
    return sorted(debs, key=lambda d: d.package)


def fetch(debs: list[Deb], cache: Path) -> list[Path]:
    """The .deb files in `cache`, downloading those not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    need = [d for d in debs if not _complete(cache / d.filename, d)]
    if need:
        tmp = cache / f".download-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            p = run(["apt-get", "download", *[d.package for d in need]], cwd=tmp)
            if p.returncode != 0:
                raise MissingTool("apt-get download failed (it needs network access to a Debian mirror): "
                                  + _last_error(p.stderr), None)
            for d in need:
                got = tmp / d.filename
                if not _complete(got, d):
                    raise InteropError(f"apt-get download did not produce {d.filename}")
                got.replace(cache / d.filename)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return [cache / d.filename for d in debs]


def _complete(path: Path, deb: Deb) -> bool:
    # apt-get verified the hash when it downloaded; the size catches a truncated copy.
    return path.is_file() and path.stat().st_size == deb.size


def _last_error(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.startswith(("E:", "Err:"))]
    return (lines or stderr.strip().splitlines() or ["no message"])[-1]

