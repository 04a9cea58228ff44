"""The four ABIs a blkif header is checked on, and the C type vocabulary
shared by the pycparser view (cparse) and the libclang view (layout)."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Abi:
    name: str                   # x86_32, x86_64, arm32, arm64
    target: str                 # clang --target triple
    long_bits: int              # the data model: ILP32 (32) or LP64 (64)
    defines: Mapping[str, str]  # what the compiler would predefine; given to `gcc -E -undef`


def _abi(name: str, target: str, long_bits: int, **defines: str) -> Abi:
    return Abi(name, target, long_bits, MappingProxyType(dict(defines)))


ABIS: Mapping[str, Abi] = MappingProxyType({
    "x86_32": _abi("x86_32", "i386-linux-gnu", 32, __i386__="1"),
    "x86_64": _abi("x86_64", "x86_64-linux-gnu", 64, __x86_64__="1", __LP64__="1"),
    "arm32": _abi("arm32", "arm-linux-gnueabihf", 32, __arm__="1"),
    "arm64": _abi("arm64", "aarch64-linux-gnu", 64, __aarch64__="1", __LP64__="1"),
})
ALL: tuple[str, ...] = tuple(ABIS)

# Macros every target of ours predefines and that the Xen headers test.  With
# `gcc -undef` they would vanish, while libclang keeps them (it claims GCC 4.2),
# so both views are given the same set to take the same #if branches.
COMMON_DEFINES: Mapping[str, str] = MappingProxyType({"__GNUC__": "4", "__linux__": "1"})

# Both views pin the C dialect so a compiler upgrade cannot change #if branches.
C_STD = "-std=gnu11"

# Typedef resolution stops at these names: they are the protocol's vocabulary,
# and what they map to (long vs long long) is an ABI detail.  Builtin integer
# types are given these names too (fixed_width), so "canonical" means the same
# in both views and on every ABI.
FIXED_WIDTH = frozenset(
    f"{s}int{n}_t" for s in ("", "u") for n in (8, 16, 32, 64)
) | {"intptr_t", "uintptr_t"}

def fixed_width(spelling: str, abi: str) -> str:
    """A builtin integer type by its fixed-width name on an ABI ("unsigned int"
    -> "uint32_t", "long" -> "int64_t" on LP64); other spellings unchanged.
    Plain char stays "char": its signedness is the ABI's."""
    words = spelling.split()
    if not words or not set(words) <= {"signed", "unsigned", "char", "short", "int", "long"}:
        return spelling
    unsigned = "unsigned" in words
    size = [w for w in words if w not in ("signed", "unsigned", "int")]
    if size == ["char"] and len(words) == 1:
        return spelling
    bits = {(): 32, ("char",): 8, ("short",): 16, ("long",): ABIS[abi].long_bits,
            ("long", "long"): 64}.get(tuple(size))
    return f"{'u' if unsigned else ''}int{bits}_t" if bits else spelling


# Spelling of an untagged struct or union, identical in both views.
def anonymous(kind: str) -> str:
    return f"{kind} <anonymous>"


# The prelude the headers expect the includer to provide.  It is the <stdint.h>
# of our translation units (-nostdinc keeps the host's libc out).  Under clang
# the compiler's own __INTn_TYPE__ macros give each target its real types; the
# gcc -undef pass has no such macros and only needs the names for parsing.
PRELUDE_STDINT = """\
#ifndef XENDRVGEN_STDINT_H
#define XENDRVGEN_STDINT_H
#ifdef __INT8_TYPE__
typedef __INT8_TYPE__ int8_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INTPTR_TYPE__ intptr_t;
typedef __UINTPTR_TYPE__ uintptr_t;
#else
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef long intptr_t;
typedef unsigned long uintptr_t;
#endif
#endif
"""
