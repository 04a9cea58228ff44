"""Shared steps of the cross compile tests (FreeBSD, NetBSD, EDK2).

Each OS module describes its targets (compiler command, flags, include
directories for the contract or for a real tree) and leaves compiling to
`compile_all`, which builds every driver source of the generated tree for
every target, one object per source and target, and gathers the compiler's
output into one Result.  Any warning fails the build (the flags hold
-Werror as well).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from xendrvgen.base import paths
from . import CompileError, Job, Result, ToolchainMissing, scan_log, sync_tree

CONTRACTS_DIR = paths.ROOT / "contracts"

# The contract ring.h of each OS is a thin header of ours that includes Xen's
# own public io/ring.h (of which the OS trees carry copies) as
# <xen-public/io/ring.h>.  That header comes from the installed Xen public
# headers (Debian's libxen-dev: /usr/include/xen); XENDRVGEN_XEN_PUBLIC names
# another directory holding io/ring.h.  The compile runners link it into their
# work directory and search that with -idirafter, so the host's /usr/include
# itself never joins a cross compile's search list.  A build in a container
# image uses the image's own (its libxen-dev, at the default path).
XEN_PUBLIC_ENV = "XENDRVGEN_XEN_PUBLIC"
XEN_PUBLIC_DEFAULT = Path("/usr/include/xen")
XEN_PUBLIC_LINK = "xen-public"
XEN_PUBLIC_INSTALL = "apt-get install libxen-dev"


def xen_public_dir() -> Path:
    """The installed Xen public headers (the directory holding io/ring.h)."""
    d = Path(os.environ.get(XEN_PUBLIC_ENV) or XEN_PUBLIC_DEFAULT)
    if not (d / "io" / "ring.h").is_file() or not (d / "xen-compat.h").is_file():
        raise ToolchainMissing(f"Xen's public headers are missing ({d}/io/ring.h and {d}/xen-compat.h); "
                               f"the contract ring.h includes them", XEN_PUBLIC_INSTALL)
    return d


def xen_public_files(runner=None) -> list[Path]:
    """The installed Xen headers a contract build reads (for the cache key;
    an image's are covered by its ID)."""
    if runner is not None and runner.image:
        return []
    d = xen_public_dir()
    return [d / "io" / "ring.h", d / "xen-compat.h"]


def link_dir(where: Path, links: dict[str, Path]) -> Path:
    """Make `where` a directory of symlinks name -> target (targets that are
    not directories are left out); an include directory for the compiler."""
    where.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        link = where / name
        if link.is_symlink() or link.exists():
            link.unlink()
        if target.is_dir():
            link.symlink_to(target)
    return where


def xen_public_include(work_dir: Path, runner=None) -> Path:
    """A directory holding only the link xen-public -> the Xen public headers
    (those of the runner's image, when it has one), for -idirafter."""
    where = work_dir / "xen-public-include"
    if runner is not None and runner.image:
        where.mkdir(parents=True, exist_ok=True)
        link = where / XEN_PUBLIC_LINK
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(XEN_PUBLIC_DEFAULT)        # resolved inside the container
        return where
    return link_dir(where, {XEN_PUBLIC_LINK: xen_public_dir().resolve()})


def real_paths(log: str, work_dir: Path) -> str:
    """Name the tree's own files in compiler messages: a path through one of
    the work directory's include links (machine/, xen/, ...) becomes the
    file it links to."""
    prefix = re.escape(str(work_dir) + "/")

    def real(m: re.Match) -> str:
        p = Path(m.group(0))
        try:
            r = p.resolve()
        except OSError:
            return m.group(0)
        return str(r) if r != p and r.is_file() else m.group(0)
    return re.sub(prefix + r"[^\s:'\"]+", real, log)


@dataclass
class Target:
    name: str                    # e.g. 'x86_64-freebsd'
    cc: list                     # compiler command
    flags: list                  # everything but includes, -c and -o
    includes: list = field(default_factory=list)   # -I directories, in order
    after: list = field(default_factory=list)      # -idirafter directories, in order


def contract_include(os_name: str) -> Path:
    d = CONTRACTS_DIR / os_name / "include"
    if not d.is_dir():
        raise CompileError(f"{d}: the {os_name} contract headers are missing from this installation")
    return d


def contract_files(os_name: str) -> list[Path]:
    root = CONTRACTS_DIR / os_name
    return sorted(p for p in root.rglob("*") if p.is_file())


def driver_sources(job: Job) -> list[Path]:
    srcs = sorted(job.gen_dir.glob("*.c"))
    if not srcs:
        raise CompileError(f"{job.gen_dir}: no driver sources (*.c) to compile "
                           f"(run `xendrvgen generate --os {job.os}` first)")
    return srcs


def input_files(job: Job) -> list[Path]:
    return sorted(p for p in job.gen_dir.rglob("*") if p.is_file())


def require_tree_file(job: Job, rel: str, what: str) -> Path:
    p = job.tree / rel
    if not p.exists():
        raise CompileError(f"{job.tree}: not a {what} tree ({rel} is missing); "
                           f"--tree wants the top of a {what} source checkout")
    return p


def compile_all(job: Job, targets: list[Target], extra_log: str = "") -> Result:
    src_dir = job.work_dir / "src"
    sync_tree(job.gen_dir, src_dir)
    sources = sorted(src_dir.glob("*.c"))
    artifacts, logs, commands = [], [extra_log] if extra_log else [], []
    ok = True
    for t in targets:
        out_dir = job.work_dir / t.name
        out_dir.mkdir(parents=True, exist_ok=True)
        for s in sources:
            obj = out_dir / (s.stem + ".o")
            if obj.exists():
                obj.unlink()
            cmd = [*t.cc, *t.flags, "-I", str(src_dir), *[a for d in t.includes for a in ("-I", str(d))],
                   *[a for d in t.after for a in ("-idirafter", str(d))],
                   "-MD", "-MF", f"{obj}.d",            # what it read: the cache checks those files
                   "-c", str(s), "-o", str(obj)]
            commands.append(cmd)
            rc, out = job.runner.run(cmd, job.work_dir)
            if out.strip():
                logs.append(f"== {t.name}: {s.name}\n{out}")
            if rc != 0 or not obj.exists():
                ok = False
            else:
                artifacts.append(str(obj))
    log = real_paths("\n".join(logs), job.work_dir)
    warnings, errors = scan_log(log)
    return Result(os=job.os, ok=ok and not warnings, artifacts=artifacts, log=log,
                  warnings=warnings, errors=errors, command=commands[-1] if commands else [])
