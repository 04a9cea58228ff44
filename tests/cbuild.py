"""Compile generated headers with real compilers, for the tests.

A standalone compile of one header: a translation unit holding the OS
profile's prelude (what that OS's includer provides first) and an #include
of the header, built with -Wall -Wextra -Werror for one ABI in one C
dialect, against the profile's stub headers and include directories.

`measure()` compiles a probe to LLVM IR and reads back integer and string
values the probe stored in globals (`long p_NAME = <expr>;`), which is how
the round-trip tests compare layouts and constants of two headers.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from xendrvgen.spec.osprofile import DIALECTS, OsProfile

WARN = ["-Wall", "-Wextra", "-Werror"]
GCC_ABI_FLAGS = {"x86_32": ["-m32"], "x86_64": ["-m64"]}


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def write_stubs(profile: OsProfile, where: Path) -> list[str]:
    """Write the profile's stub headers; return the -I flags that find them."""
    for rel, text in profile.standalone.stubs.items():
        dest = where / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    return [f"-I{where / d}" if d else f"-I{where}" for d in profile.standalone.stub_include_dirs]


def include_flags(profile: OsProfile, os_root: Path, stub_dir: Path) -> list[str]:
    flags = write_stubs(profile, stub_dir)
    flags += [f"-I{os_root / d}" for d in profile.standalone.include_dirs]
    flags += [f"-idirafter{d}" for d in profile.standalone.system_include_dirs]
    return flags


def tu_text(profile: OsProfile, headers: list[Path], extra: str = "") -> str:
    inc = "".join(f'#include "{h}"\n' for h in headers)
    return profile.standalone.prelude + inc + extra


def compiler_cmd(compiler: str, abi: str, clang_target: str, dialect: str) -> list[str]:
    lang, flags = DIALECTS[dialect]
    if compiler in ("clang", "clang++"):
        exe = "clang++" if lang == "c++" else "clang"
        base = [exe, f"--target={clang_target}", "-ffreestanding", "-nostdlibinc"]
    else:
        exe = "g++" if lang == "c++" else "gcc"
        base = [exe, "-ffreestanding", *GCC_ABI_FLAGS[abi]]
    return [*base, "-x", lang, *flags, *WARN]


def compile_tu(cmd: list[str], text: str, workdir: Path, out_args=("-c", "-o", os.devnull)) -> subprocess.CompletedProcess:
    src = workdir / "tu.c"
    src.write_text(text)
    return subprocess.run([*cmd, *out_args, str(src)], capture_output=True, text=True, cwd=workdir)


_GLOBAL = re.compile(r'^@(p_\w+) = (?:dso_local )?(?:local_unnamed_addr )?(?:global|constant) '
                     r'(?:i\d+ (-?\d+)|\[\d+ x i8\] c"((?:[^"\\]|\\[0-9A-Fa-f]{2})*)")', re.M)


def measure(flags: list[str], clang_target: str, text: str, workdir: Path) -> dict:
    """Values of the probe's `p_*` globals, compiled by clang for one target."""
    cmd = ["clang", f"--target={clang_target}", "-ffreestanding", "-nostdlibinc", "-x", "c",
           "-std=gnu11", "-w", *flags]
    res = compile_tu(cmd, text, workdir, ("-S", "-emit-llvm", "-o", "-"))
    if res.returncode != 0:
        raise AssertionError(f"probe does not compile for {clang_target}:\n{res.stderr}")
    out = {}
    for m in _GLOBAL.finditer(res.stdout):
        if m.group(2) is not None:
            out[m.group(1)] = int(m.group(2))
        else:
            raw = re.sub(r"\\([0-9A-Fa-f]{2})", lambda x: chr(int(x.group(1), 16)), m.group(3))
            out[m.group(1)] = raw.rstrip("\0")
    return out


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="xendrvgen-test-"))
