"""Linux: an out-of-tree kbuild module build of the generated blkfront/blkback.

The generated tree (generated/linux/) is copied into the work directory and
built with `make -C KDIR M=WORK modules`, warnings as errors (the Kbuild file
adds `-Werror`; a modpost warning fails the build too).  KDIR is `--kdir`, else
`--tree`, else the kernel build directory Debian's linux-headers-amd64
installs (/usr/src/linux-headers-*-amd64, or /lib/modules/$(uname -r)/build).

kbuild refuses an M= path holding a space, ':' or '%'; such a work directory
is built through a symlink in a private temporary directory.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from . import (
    CompileError,
    Inputs,
    Job,
    Result,
    ToolchainMissing,
    file_digest,
    scan_log,
    sync_tree,
    tool_version,
)

DESCRIPTION = "kbuild out-of-tree module build against kernel headers (-Werror)"
PACKAGE = "linux-headers-amd64"


def find_kdir(job: Job) -> Path:
    for given, flag in ((job.kdir, "--kdir"), (job.tree, "--tree")):
        if given is not None:
            if not (given / "Makefile").is_file():
                raise CompileError(f"{given}: not a kernel build directory ({flag} wants the directory "
                                   "holding the kernel's top-level Makefile and .config, e.g. "
                                   "/usr/src/linux-headers-<version>-amd64)")
            return given
    inside = job.runner.kernel_dir()
    if inside is not None:
        return inside
    env = os.environ.get("KDIR")
    cands = [env] if env else []
    cands += sorted(glob.glob("/usr/src/linux-headers-*-amd64"), reverse=True)
    cands.append(f"/lib/modules/{os.uname().release}/build")
    for c in cands:
        if c and (Path(c) / "Makefile").is_file():
            return Path(c).resolve()
    raise ToolchainMissing("no Linux kernel build directory found (looked for "
                           "/usr/src/linux-headers-*-amd64 and /lib/modules/$(uname -r)/build); "
                           "pass --kdir DIR", f"apt-get install {PACKAGE}")


def _sources(job: Job) -> list[Path]:
    files = sorted(p for p in job.gen_dir.rglob("*") if p.is_file())
    if not any(p.name in ("Kbuild", "Makefile") for p in files):
        raise CompileError(f"{job.gen_dir}: no Kbuild file (run `xendrvgen generate --os linux`)")
    return files


def prepare(job: Job) -> Inputs:
    kdir = find_kdir(job)
    if job.runner.which("make") is None:
        raise ToolchainMissing("make is not installed", "apt-get install make")
    if job.runner.which("gcc") is None:
        raise ToolchainMissing("gcc is not installed", "apt-get install gcc")
    job.options["kdir"] = str(kdir)
    facts = {"kdir": str(kdir), "gcc": tool_version(job.runner, ["gcc", "--version"])}
    for f in ("Module.symvers", ".config", "include/generated/utsrelease.h", "include/config/auto.conf"):
        p = kdir / f
        if p.is_file():
            facts[f] = file_digest(p)
    return Inputs(files=_sources(job), facts=facts, root=job.gen_dir)


# What kbuild's M= surely takes (it splits on blanks and rejects ':' and '%').
KBUILD_SAFE = re.compile(r"[\w./+,=@~-]+", re.ASCII)


@contextmanager
def kbuild_path(src: Path):
    """`src`, or a symlink to it at a path kbuild accepts, for the duration of a build."""
    if KBUILD_SAFE.fullmatch(str(src)):
        yield src
        return
    tmp = Path(tempfile.mkdtemp(prefix="xendrvgen-kbuild-"))   # private (0700): no one can swap the link
    try:
        if not KBUILD_SAFE.fullmatch(str(tmp)):
            raise CompileError(f"{src}: kbuild cannot build in a path with spaces, ':' or '%', and the "
                               f"temporary directory {tmp} has them too; use --work with a plain path")
        (tmp / "src").symlink_to(src, target_is_directory=True)
        yield tmp / "src"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(job: Job) -> Result:
    kdir = Path(job.options["kdir"])
    src = job.work_dir / "src"
    sync_tree(job.gen_dir, src)
    # Drop build products of modules no longer generated, so artifacts are exactly this build's.
    for ko in src.rglob("*.ko"):
        ko.unlink()
    with kbuild_path(src) as m:
        cmd = ["make", "-C", str(kdir), f"M={m}", "modules", f"-j{max(1, os.cpu_count() or 1)}"]
        rc, log = job.runner.run(cmd, src)
    warnings, errors = scan_log(log)
    artifacts = sorted(str(p) for p in src.rglob("*.ko"))
    if rc == 0 and not artifacts:
        errors.append("the build produced no .ko file")
    kernel = kdir.parent.name if kdir.name == "build" else kdir.name.removeprefix("linux-headers-")
    if rc == 0 and not errors and artifacts and job.runner.which("modinfo") is not None:
        release, log = _check_vermagic(job, kdir, src, artifacts, errors, log)
        kernel = release or kernel
    ok = rc == 0 and not errors and bool(artifacts)
    return Result(os=job.os, ok=ok, artifacts=artifacts, log=log, warnings=warnings, errors=errors, command=cmd,
                  kernel=kernel)


# Prints the kernel's release (UTS_RELEASE, what vermagic starts with), then
# each module's vermagic, one line each.
_VERMAGIC = ('sed -n \'s/^#define UTS_RELEASE "\\(.*\\)"$/\\1/p\' "$0/include/generated/utsrelease.h" '
             '&& modinfo -F vermagic "$@"')


def _check_vermagic(job: Job, kdir: Path, src: Path, modules: list[str], errors: list,
                    log: str) -> tuple[str | None, str]:
    """(the release the modules were built for, None when it could not be
    read; the log with each module's vermagic), read where they were built
    (in the image for podman): each vermagic must name that release, as
    `modinfo` shows it."""
    rc, out = job.runner.run(["sh", "-c", _VERMAGIC, str(kdir), *modules], src, timeout=120)
    lines = out.strip().splitlines()
    if rc != 0 or len(lines) != len(modules) + 1:
        errors.append(f"modinfo could not read the modules' vermagic: {out.strip()[-300:]}")
        return None, log + out
    release = lines[0].strip()
    for ko, magic in zip(modules, lines[1:]):
        shown = f"{Path(ko).name}: vermagic {magic.strip()}"
        log += shown + "\n"
        if magic.split()[:1] != [release]:
            errors.append(f"{shown}, not for the kernel it was built against ({release})")
    return release, log
