"""How xendrvgen calls podman: one command prefix for the compile runner and the image builder.

Rootful podman with runc and cgroupfs (no systemd, no rootless set-up), and
a private containers.conf that sets no default ulimits: podman's defaults
ask for more open files and processes than many CI machines allow a
container (runc then fails with "error setting rlimits ... operation not
permitted"), while the host's own limits are always allowed.

Every container of a compile is named (`container_name`), so that one whose
`podman run --rm` was killed (Ctrl-C, a timeout) can still be removed.
"""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path

from xendrvgen.base.paths import cache_dir

INSTALL = "apt-get install podman runc"
_CONF = "[containers]\ndefault_ulimits = []\n"
_serial = itertools.count(1)


def available() -> bool:
    return shutil.which("podman") is not None and shutil.which("runc") is not None


def env() -> dict:
    """The environment for a podman call (CONTAINERS_CONF: see the module's docstring)."""
    conf = cache_dir() / "podman" / "containers.conf"
    if not conf.is_file() or conf.read_text() != _CONF:
        conf.parent.mkdir(parents=True, exist_ok=True)
        tmp = conf.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(_CONF)
        os.replace(tmp, conf)
    return {**os.environ, "CONTAINERS_CONF": str(conf), "LC_ALL": "C"}


def command(*args: str) -> list[str]:
    return ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", *args]


def run_args(image: str, cmd: list, cwd: Path | None = None, mounts=(), extra_env: dict | None = None,
             readonly=(), name: str | None = None) -> list[str]:
    """`podman run` of cmd in a throw-away container of image, each mount at
    its own path (those of `readonly` read-only, unless also in `mounts`)."""
    args = command("run", "--rm", "--network", "none", "-e", "LC_ALL=C")
    if name:
        args += ["--name", name]
    writable = list(dict.fromkeys(str(Path(m).resolve()) for m in mounts))
    for m in writable:
        args += ["-v", f"{m}:{m}"]
    for m in dict.fromkeys(str(Path(m).resolve()) for m in readonly):
        if m not in writable:
            args += ["-v", f"{m}:{m}:ro"]
    for k, v in (extra_env or {}).items():
        args += ["-e", f"{k}={v}"]
    if cwd is not None:
        args += ["-w", str(Path(cwd).resolve())]
    return [*args, image, *[str(c) for c in cmd]]


def container_name() -> str:
    """A name for the next container of this process, to remove it by."""
    return f"xendrvgen-{os.getpid()}-{next(_serial)}"


def remove_container(name: str) -> None:
    """Remove a container that its `podman run --rm` may have left (killed client)."""
    subprocess.run(command("rm", "-f", "--ignore", "--time", "0", name), env=env(), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
