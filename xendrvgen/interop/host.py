"""The host tools the harness needs, and the Debian package of each.

Every check raises MissingTool naming the package to install, so a machine
without QEMU or a static busybox gets one clear sentence and exit code 2.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from . import MissingTool

# command -> Debian package that installs it
TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "apt-get": "apt",
    "dpkg-deb": "dpkg",
    "depmod": "kmod",
    "ldd": "libc-bin",
    "ldconfig": "libc-bin",
    "tar": "tar",
    "losetup": "util-linux",
    "flock": "util-linux",
    "bash": "bash",
    "stat": "coreutils",
    "expr": "coreutils",
    "readlink": "coreutils",
}
BUSYBOX_PACKAGE = "busybox-static"


def which(tool: str) -> str:
    """The path of a tool, looking in the sbin directories too."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if path is None:
        raise MissingTool(f"'{tool}' is not installed", TOOLS.get(tool))
    return path


def require(tools=None) -> dict[str, str]:
    """Paths of the tools; one error naming every missing tool and its package."""
    missing, found = [], {}
    for tool in tools or TOOLS:
        try:
            found[tool] = which(tool)
        except MissingTool:
            missing.append(tool)
    if missing:
        pkgs = sorted({TOOLS[t] for t in missing})
        raise MissingTool(f"missing host tools: {', '.join(missing)}", " ".join(pkgs))
    return found


def static_busybox() -> Path:
    """A statically linked busybox: it runs in both images without libraries."""
    for cand in ("/bin/busybox", "/usr/bin/busybox"):
        p = Path(cand)
        if p.is_file() and _is_static(p):
            return p
    raise MissingTool("no statically linked busybox at /bin/busybox", BUSYBOX_PACKAGE)


def _is_static(path: Path) -> bool:
    """An ELF without a PT_INTERP program header needs no dynamic loader."""
    data = path.read_bytes()[:4096]
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff = int.from_bytes(data[32:40], "little")
    phentsize = int.from_bytes(data[54:56], "little")
    phnum = int.from_bytes(data[56:58], "little")
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + 4 <= len(data) and int.from_bytes(data[off:off + 4], "little") == 3:  # PT_INTERP
            return False
    return True


def kernel_release(kdir: Path) -> str:
    """The release (uname -r) the kernel build directory builds modules for."""
    header = kdir / "include" / "generated" / "utsrelease.h"
    try:
        text = header.read_text()
    except OSError:
        raise MissingTool(f"{header} is missing: not a configured kernel build directory",
                          "linux-headers-amd64") from None
    for word in text.split():
        if word.startswith('"') and word.endswith('"'):
            return word.strip('"')
    raise MissingTool(f"{header}: no UTS_RELEASE", "linux-headers-amd64")


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    """Run a command with C locale output, captured as text."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    env = dict(os.environ, LC_ALL="C")
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    return subprocess.run([str(c) for c in cmd], text=True, errors="replace", env=env, **kw)
