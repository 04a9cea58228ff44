"""FreeBSD: cross-compile the xbd/xbb kernel modules with zig cc.

Targets x86_64-freebsd (amd64) and x86-freebsd (i386), with the flags
FreeBSD's kernel module build (sys/conf/kern.mk, kmod.mk) uses, against the
FreeBSD system headers bundled with ziglang plus the contract headers in
contracts/freebsd/include.  With --tree, the contract is replaced by the
tree's own sys/ headers, and the method headers (device_if.h, bus_if.h,
xenbus_if.h) are generated from the tree's .m files with its
sys/tools/makeobjops.awk, as the FreeBSD build does; the option headers a
module build makes (opt_*.h, empty) are written from sys/conf/options
(_kconf); zig's own __FreeBSD_version is dropped so that the tree's
sys/param.h defines it; and only include directories the tree has are
passed (the protocol headers moved from sys/xen/interface/io to
sys/contrib/xen/io in FreeBSD 13).
"""
from __future__ import annotations

from pathlib import Path

from . import Inputs, Job, Result, ToolchainMissing
from . import _cbuild, _kconf, _zig

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
TREE_IO_DIRS = ("contrib/xen/io", "xen/interface/io")      # FreeBSD 13 and later, older
# With --tree: the tree's sys/param.h defines __FreeBSD_version (zig
# predefines its own, which would be a -Werror redefinition).
TREE_FLAGS = ["-U__FreeBSD_version"]
OPTION_ARCHES = {"x86_64-freebsd": ["amd64"], "x86-freebsd": ["i386"]}


def flags(target: str, tree: bool = False) -> list[str]:
    return [*COMMON_FLAGS, *ARCH_FLAGS[target], *(TREE_FLAGS if tree else [])]


def tree_includes(tree: Path, work: Path, target: str) -> list[Path]:
    """The include directories of a module build of `tree` for `target`, made
    under `work`: the method headers (work/methods, see
    generate_method_headers), the opt headers, the machine/x86/i386 links,
    sys and the tree's ck headers (only those that exist)."""
    sys_dir = tree / "sys"
    opt = work / "opt" / target
    _kconf.write_opt_headers(opt, _kconf.freebsd_options(sys_dir, OPTION_ARCHES[target]), {})
    links = {"machine": f"{MACHINE_DIRS[target]}/include", "x86": "x86/include", "i386": "i386/include"}
    inc = _cbuild.link_dir(work / "tree-include" / target, {n: sys_dir / rel for n, rel in links.items()})
    return _kconf.existing([work / "methods", opt, inc, sys_dir, sys_dir / "contrib" / "ck" / "include"])


def tree_io_dir(tree: Path) -> Path | None:
    """The tree's directory of Xen protocol headers (ring.h beside blkif.h)."""
    return next((tree / "sys" / d for d in TREE_IO_DIRS if (tree / "sys" / d).is_dir()), None)


def prepare(job: Job) -> Inputs:
    _cbuild.driver_sources(job)
    files = _cbuild.input_files(job)
    zig = _zig.version(job.runner)
    facts = {"zig": zig, "targets": ",".join(TARGETS),
             "flags": " ".join(COMMON_FLAGS) + repr(ARCH_FLAGS)}
    if job.tree is None:
        files += _cbuild.contract_files("freebsd")
        files += _cbuild.xen_public_files(job.runner)
    else:
        _cbuild.require_tree_file(job, "sys/sys/bus.h", "FreeBSD")
        _cbuild.require_tree_file(job, MAKEOBJOPS, "FreeBSD")
        if job.runner.which("awk") is None:
            raise ToolchainMissing("awk is needed to generate FreeBSD's method headers", "apt-get install gawk")
        facts["tree"] = str(job.tree)
        facts["tree_flags"] = " ".join(TREE_FLAGS)
        files += [p for p in (job.tree / "sys" / "conf" / n for n in ("options", "options.amd64", "options.i386"))
                  if p.is_file()]
        files += [job.tree / MAKEOBJOPS, *[job.tree / m for m in METHOD_FILES.values()]]
        files += sorted((job.tree / "sys" / "xen").rglob("*.h"))
    return Inputs(files=files, facts=facts, root=None, tool=zig)


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
        if job.tree is None:
            inc = [_cbuild.contract_include("freebsd"), _cbuild.contract_include("freebsd") / IO_DIR]
        else:
            inc = [*tree_includes(job.tree, job.work_dir, t), tree_io_dir(job.tree)]
        gen = [job.work_dir / "src" / GENERATED_INCLUDE] if (job.gen_dir / GENERATED_INCLUDE).is_dir() else []
        inc = [*gen, *_kconf.existing([d for d in inc if d is not None])]   # gen is made by compile_all
        # The contract ring.h includes Xen's installed <xen-public/io/ring.h>.
        after = [_cbuild.xen_public_include(job.work_dir, job.runner)] if job.tree is None else []
        targets.append(_cbuild.Target(t, [*_zig.cc(job.runner), "-target", t], flags(t, job.tree is not None),
                                      inc, after))
    res = _cbuild.compile_all(job, targets, extra)
    if extra:
        res.ok = False
    return res
