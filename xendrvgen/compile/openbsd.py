"""OpenBSD: cross-compile the xbf(4)-style frontend with zig cc for amd64.

Scaffolded by `xendrvgen port new openbsd --like netbsd` and completed: the
kernel flags of OpenBSD's amd64 builds (-D_KERNEL, -ffreestanding, no red
zone, the kernel code model, its warnings) with -Werror, against the OpenBSD
system headers bundled with ziglang plus contracts/openbsd/include (the xen(4)
pv bus and the libkern gap) and contracts/openbsd/import (Xen's ring.h, which
the port brings into sys/dev/pv/).  With --tree, the tree's sys/ replaces the
contract, with the machine link a kernel build makes.
"""
from __future__ import annotations

from . import _port

DESCRIPTION = "OpenBSD xbf(4)-style frontend, cross-compiled with zig cc for amd64"
TARGETS = ("x86_64-openbsd",)
FLAGS = [
    "-std=gnu99", "-O2", "-ffreestanding", "-fno-strict-aliasing", "-fno-common",
    "-D_KERNEL", "-mcmodel=kernel", "-mno-red-zone", "-mno-mmx", "-mno-sse", "-msoft-float",
    "-fno-asynchronous-unwind-tables",
    "-Wall", "-Werror", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wpointer-arith",
    "-Wno-sign-compare", "-Wswitch", "-Wshadow", "-Wcast-qual", "-Wwrite-strings",
    "-Wno-pointer-sign", "-Wno-unknown-pragmas",
]
CONTRACT = "openbsd"
BORROW = None
TREE = {"probe": "sys/dev/pv/xenvar.h", "links": {"machine": "sys/arch/amd64/include"}, "include": ["sys"]}

prepare, run = _port.runner(__name__)
