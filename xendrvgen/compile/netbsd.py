"""NetBSD: cross-compile the xbd/xbdback drivers with zig cc for amd64.

Built as a kernel module would be (-D_KERNEL -D_MODULE, -ffreestanding and
the warning flags of NetBSD's kernel builds) against the NetBSD system
headers bundled with ziglang plus contracts/netbsd/include, which fills the
kernel-only headers a system does not install (sys/cpu_data.h and the
others the installed <sys/param.h> chain reaches) and declares the Xen
arch headers and dk(4).  With --tree, the tree's sys/ replaces the contract,
with the machine, x86 and xen include links NetBSD's kernel build makes.
"""
from __future__ import annotations

from pathlib import Path

from . import Inputs, Job, Result
from . import _cbuild, _zig

DESCRIPTION = "NetBSD xbd/xbdback drivers, cross-compiled with zig cc for amd64"

TARGETS = ("x86_64-netbsd",)

FLAGS = [
    "-std=gnu99", "-O2", "-ffreestanding", "-fno-strict-aliasing", "-fno-common",
    "-D_KERNEL", "-D_MODULE", "-mcmodel=kernel", "-mno-red-zone", "-mno-mmx", "-mno-sse",
    "-msoft-float", "-fno-asynchronous-unwind-tables",
    "-Wall", "-Werror", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wpointer-arith",
    "-Wno-sign-compare", "-Wswitch", "-Wshadow", "-Wcast-qual", "-Wwrite-strings",
    "-Wno-pointer-sign", "-Wno-unknown-pragmas",
]
MACHINE = {"x86_64-netbsd": "amd64"}
# The generated protocol headers sit in the generated tree as in a NetBSD
# tree (sys/external/mit/xen-include-public/dist/xen/include/public/io/);
# the drivers include them as <xen/include/public/io/...> and they include
# their neighbours ring.h and ../grant_table.h, which come from the contract
# (or the tree): that directory is searched too.
GENERATED_INCLUDE = "sys/external/mit/xen-include-public/dist"
IO_DIR = "xen/include/public/io"


def flags(target: str) -> list[str]:
    return list(FLAGS)


def _tree_includes(job: Job, target: str) -> list[Path]:
    links = {"machine": f"sys/arch/{MACHINE[target]}/include", "x86": "sys/arch/x86/include",
             "amd64": "sys/arch/amd64/include", "xen": "sys/arch/xen/include"}
    inc = _cbuild.link_dir(job.work_dir / "tree-include" / target,
                           {name: job.tree / rel for name, rel in links.items()})
    dirs = [inc, job.tree / "sys"]
    pub = job.tree / "sys" / "external" / "mit" / "xen-include-public" / "dist"
    if pub.is_dir():
        dirs.append(pub)
    return dirs


def prepare(job: Job) -> Inputs:
    _cbuild.driver_sources(job)
    files = _cbuild.input_files(job)
    facts = {"zig": _zig.version(job.runner), "targets": ",".join(TARGETS), "flags": " ".join(FLAGS)}
    if job.tree is None:
        files += _cbuild.contract_files("netbsd")
        files += _cbuild.xen_public_files()
    else:
        _cbuild.require_tree_file(job, "sys/arch/xen/include/xenbus.h", "NetBSD")
        facts["tree"] = str(job.tree)
        files += sorted((job.tree / "sys" / "arch" / "xen" / "include").glob("*.h"))
    return Inputs(files=files, facts=facts)


def run(job: Job) -> Result:
    targets = []
    for t in TARGETS:
        inc = [_cbuild.contract_include("netbsd")] if job.tree is None else _tree_includes(job, t)
        gen = [job.work_dir / "src" / GENERATED_INCLUDE] if (job.gen_dir / GENERATED_INCLUDE).is_dir() else []
        inc = [*gen, *inc,
               (_cbuild.contract_include("netbsd") if job.tree is None
                else job.tree / "sys" / GENERATED_INCLUDE) / IO_DIR]
        # The contract ring.h includes Xen's installed <xen-public/io/ring.h>.
        after = [_cbuild.xen_public_include(job.work_dir)] if job.tree is None else []
        targets.append(_cbuild.Target(t, [*_zig.cc(), "-target", t], flags(t), inc, after))
    return _cbuild.compile_all(job, targets)
