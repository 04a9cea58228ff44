"""EDK2: compile the XenPvBlkDxe-style driver with clang and EDK2's flags.

X64 with the flags an EDK2 CLANG/GCC X64 build passes (-mno-red-zone,
-fshort-wchar, -ffreestanding, -fno-stack-protector, -mcmodel=small, ...),
and IA32 (-m32, where the generated blkif header packs requests on 4
bytes), against contracts/edk2/include; with --tree, against the edk2
checkout's MdePkg, MdeModulePkg and OvmfPkg include directories.
"""
from __future__ import annotations

from pathlib import Path

from . import Inputs, Job, LocalRunner, Result, ToolchainMissing, tool_version
from . import _cbuild

DESCRIPTION = "EDK2 XenPvBlkDxe-style driver, compiled with clang for X64 and IA32"

COMMON = ["-std=gnu11", "-Os", "-fshort-wchar", "-ffreestanding", "-fno-builtin", "-fno-stack-protector",
          "-fno-strict-aliasing", "-fno-common", "-ffunction-sections", "-fdata-sections",
          "-Wall", "-Werror", "-Wno-unused-parameter"]
TARGETS = {
    "X64": ["-target", "x86_64-unknown-linux-gnu", "-mno-red-zone", "-mcmodel=small",
            "-DEFIAPI=__attribute__((ms_abi))"],
    "IA32": ["-target", "i686-unknown-linux-gnu", "-m32", "-malign-double"],
}
ARCH_DIR = {"X64": "X64", "IA32": "Ia32"}
# OvmfPkg's IndustryStandard/Xen/xen.h accepts only X64 (and AArch64): a
# real tree builds the Xen drivers for X64 alone; the contract also builds
# IA32, where the generated blkif header packs requests on 4 bytes.
TREE_ARCHES = ("X64",)
# The generated protocol headers sit in the generated tree as in an edk2
# checkout (OvmfPkg/Include/IndustryStandard/Xen/io/); the driver includes
# them as <IndustryStandard/Xen/io/...> and they include their neighbours
# ring.h and ../grant_table.h, which come from the contract (or the tree):
# that directory is searched too.
GENERATED_INCLUDE = "OvmfPkg/Include"
IO_DIR = "IndustryStandard/Xen/io"


def compiler(runner=None) -> str:
    """clang, where the runner finds it (in its image, the image's)."""
    cc = (runner or LocalRunner()).which("clang")
    if cc is None:
        raise ToolchainMissing("clang is needed for the EDK2 compile test", "apt-get install clang")
    return cc


def prepare(job: Job) -> Inputs:
    _cbuild.driver_sources(job)
    files = _cbuild.input_files(job)
    cc = tool_version(job.runner, [compiler(job.runner), "--version"])
    facts = {"cc": cc, "flags": " ".join(COMMON) + repr(TARGETS)}
    if job.tree is None:
        files += _cbuild.contract_files("edk2")
        files += _cbuild.xen_public_files(job.runner)
    else:
        _cbuild.require_tree_file(job, "OvmfPkg/Include/Protocol/XenBus.h", "edk2")
        facts["tree"] = str(job.tree)
    return Inputs(files=files, facts=facts, tool=cc)


def includes(job: Job, arch: str) -> list[Path]:
    gen = [job.work_dir / "src" / GENERATED_INCLUDE] if (job.gen_dir / GENERATED_INCLUDE).is_dir() else []
    if job.tree is None:
        return [*gen, _cbuild.contract_include("edk2"), _cbuild.contract_include("edk2") / IO_DIR]
    t = job.tree
    return [*gen, t / "MdePkg" / "Include", t / "MdePkg" / "Include" / ARCH_DIR[arch],
            t / "MdeModulePkg" / "Include", t / "OvmfPkg" / "Include",
            t / "OvmfPkg" / "Include" / IO_DIR]


def run(job: Job) -> Result:
    cc = compiler(job.runner)
    arches = TARGETS if job.tree is None else TREE_ARCHES
    # The contract ring.h includes Xen's installed <xen-public/io/ring.h>.
    after = [_cbuild.xen_public_include(job.work_dir, job.runner)] if job.tree is None else []
    targets = [_cbuild.Target(arch, [cc], [*COMMON, *TARGETS[arch]], includes(job, arch), after)
               for arch in arches]
    return _cbuild.compile_all(job, targets)
