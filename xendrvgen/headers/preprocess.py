"""Preprocess a blkif header for each ABI with `gcc -E`, deterministically.

The host compiler's view must not leak in: `-undef -nostdinc` drop its
predefined macros and system headers; each ABI's macros come from the table
in abi.py plus the profile; <stdint.h> is our prelude; stub headers from the
profile sit in a temporary directory searched first.  `-dD` keeps every
#define in the output at its place, so the constants come from the same run.
One gcc per ABI, all started at once.

Headers may come from pull requests: each gcc runs in a process group of its
own (with its cc1) under rlimits on output size, memory and CPU time, is
killed at the wall-time limit or when the analysis stops early, and the files
it read are recorded so that libclang reads those and no others (layout.py).
"""
from __future__ import annotations

import atexit
import math
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xendrvgen.base import limits
from xendrvgen.base.diagnostics import Mark, SpecError, error
from .abi import ABIS, ALL, C_STD, COMMON_DEFINES, PRELUDE_STDINT
from .ctext import marker_path
if TYPE_CHECKING:        # the libclang process (clangrun) imports this module: no YAML there
    from .profiles import Profile

# Shown instead of the temporary directory in file names and messages.
STUBS = "<stubs>"


@dataclass(frozen=True)
class Preprocessed:
    abi: str
    header: str                  # absolute path, as the output's line markers spell it
    companions: tuple[str, ...]  # absolute paths of the companion headers included
    text: str                    # `gcc -E -dD` output, temp dir shown as <stubs>
    files: tuple[str, ...] = ()  # every file gcc read (temp dir as is), all regular files
    deadline: float = math.inf   # time.monotonic() by which the header's analysis must end


class Workdir:
    """Temporary directory with the prelude, the profile's stubs and the TU.

    Shared by the gcc and libclang passes of one analysis; removed on exit.
    """

    def __init__(self, header: str, profile: Profile):
        self.header = os.path.abspath(header)
        self.profile = profile
        self.path = ""
        self.running: Running | None = None
        self.deadline = math.inf

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
        self.deadline = time.monotonic() + limits.get("header-seconds")
        self.path = tempfile.mkdtemp(prefix="xendrvgen-")
        try:
            self._write("stdint.h", PRELUDE_STDINT)
            for rel, text in stubs.items():
                self._write(rel, text)
            # the Xen headers expect the includer to provide <stdint.h> first;
            # a profile's prelude is what the copy's own code includes before it
            prelude = ""
            if self.profile.prelude:
                self._write("xendrvgen-prelude.h", self.profile.prelude)
                prelude = '#include "xendrvgen-prelude.h"\n'
            self._write("tu.c", "#include <stdint.h>\n" + prelude + "".join(
                f'#include "{p}"\n' for p in (self.header, *self.companions)))
        except OSError as e:
            shutil.rmtree(self.path, ignore_errors=True)
            raise error(f"cannot write the work directory {self.path}: {e.strerror}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.running is not None:
            self.running.stop()              # gcc may still be writing here
        shutil.rmtree(self.path, ignore_errors=True)

    def preprocessed(self, abi: str) -> Preprocessed:
        """gcc's output for one ABI, once gcc is done (any thread); raises its error."""
        out = self.running.outcome(abi)
        if isinstance(out, SpecError):
            raise out
        return out

    def check_time(self, what: str) -> None:
        check_time(self.deadline, self.header, what)

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


def check_time(deadline: float, header: str, what: str) -> None:
    """Stop a header's analysis once it has taken longer than the limit;
    `what` names the step it was in."""
    if time.monotonic() > deadline:
        raise limits.exceeded("header-seconds", "the analysis of the header took longer than "
                              f"{limits.most('header-seconds')} (stopped in {what})", Mark(header))


def abi_defines(abi: str, profile: Profile, compiler_macros: bool) -> dict[str, str]:
    """Macros for one ABI; compiler_macros adds what a compiler would predefine."""
    macros = {**COMMON_DEFINES, **ABIS[abi].defines} if compiler_macros else {}
    macros.update(profile.defines_for(abi))
    return macros


_DIAG = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: (?P<msg>.*)$")


def _missing_hint(msg: str, wd: Workdir) -> str:
    """What to do when the header includes a file that is not beside it."""
    m = re.match(r"(?P<inc>\S+): No such file or directory", msg)
    if not m:
        return ""
    return (f" ({os.path.basename(wd.header)} includes {m['inc']}, which is neither beside it nor in "
            f"profile {wd.profile.name}'s include directories: a vendored copy needs its siblings; "
            f"pass --include DIR naming the directory {m['inc']} is relative to (the include root of "
            "the tree the copy comes from), or compare the copy where it sits in its tree; Xen's own "
            "public headers are in /usr/include/xen (libxen-dev), blkif.h in io/)")


def _gcc_error(stderr: str, wd: Workdir, abi: str):
    stderr = wd.show(stderr)
    for line in stderr.splitlines():
        m = _DIAG.match(line)
        if m:
            mark = Mark(m["file"], int(m["line"]), int(m["col"] or 0))
            return error(f"preprocessor: {m['msg']}{_missing_hint(m['msg'], wd)}", mark, context=f"ABI {abi}")
    first = next((ln for ln in stderr.splitlines() if ln.strip()), "gcc failed")
    return error(f"preprocessor: {first}", Mark(wd.header), context=f"ABI {abi}")


_MARKER = re.compile(r'^# \d+ "((?:[^"\\]|\\.)*)"', re.M)
_live: "weakref.WeakSet[Running]" = weakref.WeakSet()


def _rlimits(out_bytes: int, mem_bytes: int, cpu_seconds: int) -> tuple[list[str], object]:
    """(command prefix, preexec_fn) that start gcc under these rlimits.

    prlimit(1) keeps subprocess's fast, thread-safe spawn; without it a
    preexec_fn sets them (a plain fork, as libclang threads may run)."""
    prlimit = shutil.which("prlimit")      # util-linux: sets the child's rlimits, then execs it
    if prlimit:
        return [prlimit, f"--fsize={out_bytes}", f"--as={mem_bytes}", f"--cpu={cpu_seconds}", "--"], None

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (out_bytes, out_bytes))
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    return [], preexec


class Running:
    """gcc processes started for some ABIs, within the limits of limits.py.

    Output (and stderr) go to files of the work directory, capped by
    RLIMIT_FSIZE one byte past the output limit; RLIMIT_AS and RLIMIT_CPU cap
    memory and time; a timer kills every process group still running at the
    wall-time limit; stop() kills them on any early end.  outcome() waits for
    one ABI from any thread (libclang's wait for theirs).
    """

    def __init__(self, wd: Workdir, abis: tuple[str, ...]):
        gcc = shutil.which("gcc")
        if gcc is None:
            raise error("gcc not found: it preprocesses the headers (apt-get install gcc)")
        self.wd, self.procs, self.done = wd, {}, {}
        self.lock, self.expired = threading.Lock(), False
        self.max_out, seconds = limits.get("cpp-output"), limits.get("cpp-seconds")
        prefix, preexec = _rlimits(self.max_out + 1, limits.get("cpp-memory"), math.ceil(seconds))
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True
        wd.running = self
        _live.add(self)
        for abi in abis:
            out = os.path.join(wd.path, f"{abi}.i")
            defs = [f"-D{k}={v}" for k, v in abi_defines(abi, wd.profile, True).items()]
            cmd = [*prefix, gcc, "-E", "-dD", "-undef", "-nostdinc", C_STD, "-x", "c",
                   *wd.include_args(), *defs, wd.tu, "-o", out]
            try:
                with open(out + ".err", "wb") as err:
                    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=err, process_group=0, preexec_fn=preexec)
            except OSError as e:
                self.stop()
                raise error(f"cannot run {gcc}: {e.strerror} (apt-get install gcc)") from None
            self.procs[abi] = (proc, out)
        self.timer.start()

    def _expire(self) -> None:
        self.expired = True
        self._kill()

    def _kill(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)      # gcc and its cc1
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        """Kill what still runs and reap it (idempotent)."""
        self.timer.cancel()
        self._kill()
        for proc, _ in self.procs.values():
            proc.wait()
        _live.discard(self)

    def outcome(self, abi: str) -> Preprocessed | SpecError:
        with self.lock:
            if abi not in self.done:
                self.done[abi] = self._finish(abi)
            return self.done[abi]

    def _finish(self, abi: str) -> Preprocessed | SpecError:
        proc, out = self.procs[abi]
        proc.wait()
        mark, ctx = Mark(self.wd.header), f"ABI {abi}"
        if os.path.exists(out) and os.path.getsize(out) > self.max_out:
            return limits.exceeded("cpp-output", "the preprocessed header is larger than "
                                   f"{limits.most('cpp-output')}", mark, ctx)
        if proc.returncode != 0:
            with open(out + ".err", encoding="utf-8", errors="replace") as f:
                stderr = f.read(65536)
            if self.expired or "CPU time limit" in stderr:
                return limits.exceeded("cpp-seconds", "the preprocessor did not finish within "
                                       f"{limits.most('cpp-seconds')}", mark, ctx)
            if "out of memory" in stderr or "memory exhausted" in stderr:
                return limits.exceeded("cpp-memory", "the preprocessor needed more than "
                                       f"{limits.most('cpp-memory')} of memory (does the header include "
                                       "a device such as /dev/zero?)", mark, ctx)
            return _gcc_error(stderr, self.wd, abi)
        with open(out, encoding="utf-8", errors="replace") as f:
            text = f.read()
        files = tuple(dict.fromkeys(marker_path(m) for m in _MARKER.findall(text) if not m.startswith("<")))
        for file in files:
            try:
                regular = stat.S_ISREG(os.stat(file).st_mode)
            except OSError:
                regular = False
            if not regular:
                return error(f"the header includes '{self.wd.show(file)}', which is not a regular file", mark, ctx)
        return Preprocessed(abi, self.wd.header, self.wd.companions, self.wd.show(text), files,
                            self.wd.deadline)

    def result(self) -> dict[str, Preprocessed]:
        results, failure = {}, None
        for abi in self.procs:
            out = self.outcome(abi)
            if isinstance(out, SpecError):
                failure = failure or out
            else:
                results[abi] = out
        if failure:
            raise failure
        return results


@atexit.register
def _stop_all() -> None:
    """An exit that skipped an analysis's own cleanup leaves no gcc behind."""
    for run in list(_live):
        run.stop()


def start(wd: Workdir, abis: tuple[str, ...]) -> Running:
    unknown = [a for a in abis if a not in ABIS]
    if unknown:
        raise error(f"unknown ABI '{unknown[0]}' (known: {', '.join(ABIS)})")
    return Running(wd, abis)


def preprocess(header: str, profile: Profile, abis: tuple[str, ...] = ALL) -> dict[str, Preprocessed]:
    """Preprocessed text of the header (and its companions) for each ABI."""
    with Workdir(header, profile) as wd:
        return start(wd, abis).result()
