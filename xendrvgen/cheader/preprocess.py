"""Preprocess a blkif header for each ABI with `gcc -E`, deterministically.

The host compiler's view must not leak in: `-undef -nostdinc` drop its
predefined macros and system headers; each ABI's macros come from the table
in abi.py plus the profile; <stdint.h> is our prelude; stub headers from the
profile sit in a temporary directory searched first.  `-dD` keeps every
#define in the output at its place, so the constants come from the same run.
One gcc per ABI, all started at once.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from ..diagnostics import Mark, error
from .abi import ABIS, ALL, C_STD, COMMON_DEFINES, PRELUDE_STDINT
from .profiles import Profile

# Shown instead of the temporary directory in file names and messages.
STUBS = "<stubs>"


@dataclass(frozen=True)
class Preprocessed:
    abi: str
    header: str                  # absolute path, as the output's line markers spell it
    companions: tuple[str, ...]  # absolute paths of the companion headers included
    text: str                    # `gcc -E -dD` output, temp dir shown as <stubs>


class Workdir:
    """Temporary directory with the prelude, the profile's stubs and the TU.

    Shared by the gcc and libclang passes of one analysis; removed on exit.
    """

    def __init__(self, header: str, profile: Profile):
        self.header = os.path.abspath(header)
        self.profile = profile
        self.path = ""

    def __enter__(self) -> "Workdir":
        if not os.path.isfile(self.header):
            raise error(f"header not found: {self.header} (install it with: "
                        f"apt-get install {self.profile.package})", Mark(self.header))
        self.companions = tuple(self.profile.companion_paths(self.header))
        for p in (self.header, *self.companions):
            if '"' in p or "\n" in p:
                raise error("header path cannot contain '\"' or a newline", Mark(p))
        stubs = {}
        for include, text in self.profile.stubs.items():
            rel = os.path.normpath(include)
            if os.path.isabs(rel) or rel.startswith(".."):
                raise error(f"stub path '{include}' must be relative and stay inside",
                            Mark(self.profile.file))
            stubs[rel] = text
        self.path = tempfile.mkdtemp(prefix="xendrvgen-")
        try:
            self._write("stdint.h", PRELUDE_STDINT)
            for rel, text in stubs.items():
                self._write(rel, text)
            # the Xen headers expect the includer to provide <stdint.h> first
            self._write("tu.c", "#include <stdint.h>\n" + "".join(
                f'#include "{p}"\n' for p in (self.header, *self.companions)))
        except OSError as e:
            shutil.rmtree(self.path, ignore_errors=True)
            raise error(f"cannot write the work directory {self.path}: {e.strerror}") from None
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def _write(self, rel: str, text: str) -> None:
        dest = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)

    @property
    def tu(self) -> str:
        return os.path.join(self.path, "tu.c")

    def include_args(self) -> list[str]:
        dirs = [self.path, *self.profile.resolve_include_dirs(self.header)]
        return [f"-I{d}" for d in dirs]

    def show(self, text: str) -> str:
        """Text with the temporary directory replaced by <stubs>."""
        return text.replace(self.path, STUBS) if self.path else text


def abi_defines(abi: str, profile: Profile, compiler_macros: bool) -> dict[str, str]:
    """Macros for one ABI; compiler_macros adds what a compiler would predefine."""
    macros = {**COMMON_DEFINES, **ABIS[abi].defines} if compiler_macros else {}
    macros.update(profile.defines_for(abi))
    return macros


_DIAG = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: (?P<msg>.*)$")


def _gcc_error(stderr: str, wd: Workdir, abi: str):
    stderr = wd.show(stderr)
    for line in stderr.splitlines():
        m = _DIAG.match(line)
        if m:
            mark = Mark(m["file"], int(m["line"]), int(m["col"] or 0))
            return error(f"preprocessor: {m['msg']}", mark, context=f"ABI {abi}")
    first = next((ln for ln in stderr.splitlines() if ln.strip()), "gcc failed")
    return error(f"preprocessor: {first}", Mark(wd.header), context=f"ABI {abi}")


class Running:
    """gcc processes started for some ABIs; result() waits and collects."""

    def __init__(self, wd: Workdir, abis: tuple[str, ...]):
        gcc = shutil.which("gcc")
        if gcc is None:
            raise error("gcc not found: it preprocesses the headers (apt-get install gcc)")
        self.wd, self.procs = wd, {}
        for abi in abis:
            out = os.path.join(wd.path, f"{abi}.i")
            defs = [f"-D{k}={v}" for k, v in abi_defines(abi, wd.profile, True).items()]
            cmd = [gcc, "-E", "-dD", "-undef", "-nostdinc", C_STD, "-x", "c",
                   *wd.include_args(), *defs, wd.tu, "-o", out]
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
            except OSError as e:
                raise error(f"cannot run {gcc}: {e.strerror} (apt-get install gcc)") from None
            self.procs[abi] = (proc, out)

    def result(self) -> dict[str, Preprocessed]:
        results, failure = {}, None
        for abi, (proc, out) in self.procs.items():
            _, stderr = proc.communicate()
            if proc.returncode != 0:
                failure = failure or _gcc_error(stderr, self.wd, abi)
                continue
            with open(out, encoding="utf-8", errors="replace") as f:
                text = self.wd.show(f.read())
            results[abi] = Preprocessed(abi, self.wd.header, self.wd.companions, text)
        if failure:
            raise failure
        return results


def start(wd: Workdir, abis: tuple[str, ...]) -> Running:
    unknown = [a for a in abis if a not in ABIS]
    if unknown:
        raise error(f"unknown ABI '{unknown[0]}' (known: {', '.join(ABIS)})")
    return Running(wd, abis)


def preprocess(header: str, profile: Profile, abis: tuple[str, ...] = ALL) -> dict[str, Preprocessed]:
    """Preprocessed text of the header (and its companions) for each ABI."""
    with Workdir(header, profile) as wd:
        return start(wd, abis).result()
