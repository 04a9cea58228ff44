"""openbsd: the compile runner scaffolded by `xendrvgen port new openbsd --like netbsd`.

Cross-compiles the generated drivers for x86_64-openbsd against contracts/openbsd/include
and, while the kit still spells netbsd's API, netbsd's contract (BORROW).  Set
BORROW = None once contracts/openbsd declares what the templates use, and TREE
to build against a real source tree with --tree (see xendrvgen/compile/_port.py).
"""
from __future__ import annotations

from . import _port

DESCRIPTION = "openbsd drivers, cross-compiled for x86_64-openbsd (scaffold)"
TARGETS = ('x86_64-openbsd',)
FLAGS = [
    '-std=gnu99',
    '-O2',
    '-ffreestanding',
    '-fno-strict-aliasing',
    '-fno-common',
    '-D_KERNEL',
    '-D_MODULE',
    '-mcmodel=kernel',
    '-mno-red-zone',
    '-mno-mmx',
    '-mno-sse',
    '-msoft-float',
    '-fno-asynchronous-unwind-tables',
    '-Wall',
    '-Werror',
    '-Wstrict-prototypes',
    '-Wmissing-prototypes',
    '-Wpointer-arith',
    '-Wno-sign-compare',
    '-Wswitch',
    '-Wshadow',
    '-Wcast-qual',
    '-Wwrite-strings',
    '-Wno-pointer-sign',
    '-Wno-unknown-pragmas',
]
CONTRACT = 'openbsd'
BORROW = 'netbsd'
TREE = None

prepare, run = _port.runner(__name__)
