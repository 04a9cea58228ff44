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
from . import _cbuild, _kconf, _zig

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
# With --tree: the tree's sys/param.h defines __NetBSD_Version__ (zig
# predefines its own, which would be a -Werror redefinition), and
# Makefile.xen's CPPFLAGS.
TREE_FLAGS = ["-U__NetBSD_Version__", "-Damd64", "-Dx86_64"]
# The options a Xen dom0 kernel (XEN3_DOM0) sets that the Xen headers test;
# written only into the opt headers of the tree that declares them.
KERNEL_OPTIONS = {"XEN": "1", "XENPV": "1", "DOM0OPS": "1"}
# Where config(1) starts reading option declarations (relative to sys/).
CONFIG_ROOTS = ["conf/files", "arch/amd64/conf/files.amd64", "arch/x86/conf/files.x86",
                "arch/xen/conf/files.xen", "arch/xen/conf/files.compat"]


def flags(target: str, tree: bool = False) -> list[str]:
    return [*FLAGS, *(TREE_FLAGS if tree else [])]


def tree_includes(tree: Path, work: Path, target: str) -> list[Path]:
    """The include directories of a Xen kernel build of `tree` for `target`,
    made under `work`: the opt headers, the links of the build directory,
    xen-ma/machine, sys/arch, sys and the tree's Xen public headers."""
    sys_dir, arch = tree / "sys", MACHINE[target]
    opt = work / "opt" / target
    _kconf.write_opt_headers(opt, _kconf.netbsd_options(sys_dir, CONFIG_ROOTS), KERNEL_OPTIONS)
    xen_machine = sys_dir / "arch" / "xen" / "include" / arch
    links = {"machine": xen_machine if xen_machine.is_dir() else sys_dir / "arch" / arch / "include",
             "x86": sys_dir / "arch" / "x86" / "include", arch: sys_dir / "arch" / arch / "include",
             "xen": sys_dir / "arch" / "xen" / "include"}
    inc = _cbuild.link_dir(work / "tree-include" / target, links)
    ma = _cbuild.link_dir(work / "xen-ma" / target, {"machine": sys_dir / "arch" / arch / "include"})
    return _kconf.existing([opt, inc, ma, sys_dir / "arch", sys_dir,
                            sys_dir / "external" / "mit" / "xen-include-public" / "dist"])


def prepare(job: Job) -> Inputs:
    _cbuild.driver_sources(job)
    files = _cbuild.input_files(job)
    zig = _zig.version(job.runner)
    facts = {"zig": zig, "targets": ",".join(TARGETS), "flags": " ".join(FLAGS)}
    if job.tree is None:
        files += _cbuild.contract_files("netbsd")
        files += _cbuild.xen_public_files(job.runner)
    else:
        _cbuild.require_tree_file(job, "sys/arch/xen/include/xenbus.h", "NetBSD")
        facts["tree"] = str(job.tree)
        facts["tree_flags"] = " ".join(TREE_FLAGS) + repr(KERNEL_OPTIONS)
        files += sorted((job.tree / "sys" / "arch" / "xen" / "include").glob("*.h"))
        files += [p for p in (job.tree / "sys" / r for r in CONFIG_ROOTS) if p.is_file()]
    return Inputs(files=files, facts=facts, tool=zig)


def run(job: Job) -> Result:
    targets = []
    for t in TARGETS:
        inc = ([_cbuild.contract_include("netbsd")] if job.tree is None
               else tree_includes(job.tree, job.work_dir, t))
        gen = [job.work_dir / "src" / GENERATED_INCLUDE] if (job.gen_dir / GENERATED_INCLUDE).is_dir() else []
        inc = [*gen, *_kconf.existing([*inc, (_cbuild.contract_include("netbsd") if job.tree is None
                                              else job.tree / "sys" / GENERATED_INCLUDE) / IO_DIR])]
        # The contract ring.h includes Xen's installed <xen-public/io/ring.h>.
        after = [_cbuild.xen_public_include(job.work_dir, job.runner)] if job.tree is None else []
        targets.append(_cbuild.Target(t, [*_zig.cc(job.runner), "-target", t], flags(t, job.tree is not None),
                                      inc, after))
    return _cbuild.compile_all(job, targets)
