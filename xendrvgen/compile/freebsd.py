"""FreeBSD: cross-compile the xbd/xbb kernel modules with zig cc.

Targets x86_64-freebsd (amd64) and x86-freebsd (i386), with the flags
FreeBSD's kernel module build (sys/conf/kern.mk, kmod.mk) uses, against the
FreeBSD system headers bundled with ziglang plus the contract headers in
contracts/freebsd/include.  With --tree, the contract is replaced by the
tree's own sys/ headers, and the method headers (device_if.h, bus_if.h,
xenbus_if.h) are generated from the tree's .m files with its
sys/tools/makeobjops.awk, as the FreeBSD build does.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import Inputs, Job, Result, ToolchainMissing
from . import _cbuild, _zig

DESCRIPTION = "FreeBSD xbd/xbb modules, cross-compiled with zig cc for amd64 and i386"

TARGETS = ("x86_64-freebsd", "x86-freebsd")

COMMON_FLAGS = [
    "-std=gnu99", "-O2", "-pipe", "-fno-strict-aliasing",
    "-D_KERNEL", "-DKLD_MODULE",
    "-fno-common", "-fno-omit-frame-pointer", "-ffreestanding", "-fwrapv", "-fstack-protector",
    "-Wall", "-Werror", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wpointer-arith",
    "-Wcast-qual", "-Wundef", "-Wno-pointer-sign", "-D__printf__=__freebsd_kprintf__",
    "-Wmissing-include-dirs", "-fdiagnostics-show-option", "-Wno-unknown-pragmas", "-Wswitch",
]
ARCH_FLAGS = {
    "x86_64-freebsd": ["-mcmodel=kernel", "-mno-red-zone", "-mno-mmx", "-mno-sse", "-msoft-float",
                       "-fno-asynchronous-unwind-tables"],
    "x86-freebsd": ["-mno-mmx", "-mno-sse", "-msoft-float", "-mno-aes", "-mno-avx"],
}
MACHINE_DIRS = {"x86_64-freebsd": "amd64", "x86-freebsd": "i386"}
# Method headers: generated header -> its interface definition in the tree.
METHOD_FILES = {
    "device_if.h": "sys/kern/device_if.m",
    "bus_if.h": "sys/kern/bus_if.m",
    "xenbus_if.h": "sys/xen/xenbus/xenbus_if.m",
}
MAKEOBJOPS = "sys/tools/makeobjops.awk"
# The generated protocol headers sit in the generated tree as in a FreeBSD
# tree (sys/contrib/xen/io/); the drivers include them as <contrib/xen/io/...>
# and they include their neighbours ring.h and ../grant_table.h, which come
# from the contract (or the tree): that directory is searched too.
GENERATED_INCLUDE = "sys"
IO_DIR = "contrib/xen/io"


def flags(target: str) -> list[str]:
    return [*COMMON_FLAGS, *ARCH_FLAGS[target]]


def _tree_includes(job: Job, target: str) -> list[Path]:
    links = {"machine": f"sys/{MACHINE_DIRS[target]}/include", "x86": "sys/x86/include",
             "i386": "sys/i386/include"}
    inc = _cbuild.link_dir(job.work_dir / "tree-include" / target,
                           {name: job.tree / rel for name, rel in links.items()})
    dirs = [job.work_dir / "methods", inc, job.tree / "sys"]
    ck = job.tree / "sys" / "contrib" / "ck" / "include"
    if ck.is_dir():
        dirs.append(ck)
    return dirs


def prepare(job: Job) -> Inputs:
    _cbuild.driver_sources(job)
    files = _cbuild.input_files(job)
    facts = {"zig": _zig.version(job.runner), "targets": ",".join(TARGETS),
             "flags": " ".join(COMMON_FLAGS) + repr(ARCH_FLAGS)}
    if job.tree is None:
        files += _cbuild.contract_files("freebsd")
        files += _cbuild.xen_public_files()
    else:
        _cbuild.require_tree_file(job, "sys/sys/bus.h", "FreeBSD")
        _cbuild.require_tree_file(job, MAKEOBJOPS, "FreeBSD")
        if shutil.which("awk") is None:
            raise ToolchainMissing("awk is needed to generate FreeBSD's method headers", "apt-get install gawk")
        facts["tree"] = str(job.tree)
        files += [job.tree / MAKEOBJOPS, *[job.tree / m for m in METHOD_FILES.values()]]
        files += sorted((job.tree / "sys" / "xen").rglob("*.h"))
    return Inputs(files=files, facts=facts, root=None)


def generate_method_headers(tree: Path, out_dir: Path, runner) -> str:
    """Run makeobjops.awk -h on each interface definition, as the FreeBSD build does."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log = []
    for header, m in METHOD_FILES.items():
        rc, out = runner.run(["awk", "-f", str(tree / MAKEOBJOPS), str(tree / m), "-h"], out_dir)
        if rc != 0 or not (out_dir / header).is_file():
            log.append(f"makeobjops.awk failed on {m}:\n{out}")
    return "\n".join(log)


def run(job: Job) -> Result:
    extra = ""
    targets = []
    if job.tree is not None:
        extra = generate_method_headers(job.tree, job.work_dir / "methods", job.runner)
    for t in TARGETS:
        inc = [_cbuild.contract_include("freebsd")] if job.tree is None else _tree_includes(job, t)
        gen = [job.work_dir / "src" / GENERATED_INCLUDE] if (job.gen_dir / GENERATED_INCLUDE).is_dir() else []
        inc = [*gen, *inc,
               (_cbuild.contract_include("freebsd") if job.tree is None else job.tree / "sys") / IO_DIR]
        # The contract ring.h includes Xen's installed <xen-public/io/ring.h>.
        after = [_cbuild.xen_public_include(job.work_dir)] if job.tree is None else []
        targets.append(_cbuild.Target(t, [*_zig.cc(), "-target", t], flags(t), inc, after))
    res = _cbuild.compile_all(job, targets, extra)
    if extra:
        res.ok = False
    return res
