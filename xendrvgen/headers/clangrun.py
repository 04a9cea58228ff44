"""libclang in a process of its own, under limits.

C nested deeply enough (a long chain of unary operators, casts or
declarators) overflows the stack of clang's recursive parser, and clang
then dies of SIGSEGV: in our own process that would end xendrvgen with no
message.  So the parses of clangparse.py run in a child, `python -m
xendrvgen.headers.clangrun`, started at once so it loads libclang while gcc
runs, under an address-space limit, in a process group of its own, killed
at the header's deadline or on an early end.  It reads one job (JSON on
stdin: the TU and libclang's arguments per ABI, sent once gcc has read the
TU), and writes one answer (JSON on stdout: the layouts per ABI, the files
each parse included, and the errors).  A child killed by a signal is
reported as a crash of libclang on that header, an error (exit 2), not a
crash of xendrvgen.
"""
from __future__ import annotations

import atexit
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from typing import Mapping

from xendrvgen.base import limits
from xendrvgen.base.diagnostics import Diagnostic, Mark, SpecError, error
from . import clangparse, factcache, preprocess
from .recordlayout import RecordLayout
from .preprocess import Workdir

# libclang parses on a thread of its own with an 8 MiB stack unless told
# not to; ours get a larger one (reserved, used as needed): a chain of
# ~150,000 typedefs parses; deeper C crashes the child, not us.
_STACK = 64 << 20
_live: "weakref.WeakSet[Parsing]" = weakref.WeakSet()


class Parsing:
    """The libclang parses of one TU on some ABIs, in a child process.

    result() gives {abi: {tag: RecordLayout}} or raises the first ABI's
    error; included() the files the parses read; join() stops early."""

    def __init__(self, wd: Workdir, abis: tuple[str, ...]):
        if wd.running is None:
            preprocess.start(wd, abis)
        self.wd, self.abis = wd, abis
        self.outcome: dict[str, Mapping[str, RecordLayout] | BaseException] = {}
        self.files: set[str] = set()
        prefix, preexec = preprocess._rlimits(limits.get("clang-memory") * 2, limits.get("clang-memory"),
                                              math.ceil(limits.get("header-seconds")))
        env = {**os.environ, "LIBCLANG_NOTHREADS": "1"}
        try:
            self.proc = subprocess.Popen([*prefix, sys.executable, "-m", __name__],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, process_group=0,
                                         preexec_fn=preexec)
        except OSError as e:
            raise error(f"cannot start {sys.executable} to run libclang: {e.strerror}") from None
        _live.add(self)
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self) -> None:
        args: dict[str, list[str]] = {}
        for abi in self.abis:                  # waits for gcc, ABI by ABI
            try:
                args[abi] = clangparse.clang_args(self.wd, abi)
            except BaseException as e:         # gcc's error for this ABI
                self.outcome[abi] = e
        job = {"tu": self.wd.tu, "header": self.wd.header, "stubs": self.wd.path,
               "seconds": max(self.wd.deadline - time.monotonic(), 0.0) if math.isfinite(self.wd.deadline)
               else limits.get("header-seconds"), "abis": args}
        try:
            out, err = self.proc.communicate(json.dumps(job).encode(), timeout=job["seconds"] + 1)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.communicate()
            self._fail(args, limits.exceeded("header-seconds", "the analysis of the header took longer "
                                             f"than {limits.most('header-seconds')} (stopped in libclang)",
                                             Mark(self.wd.header)))
            return
        except BaseException as e:
            self._fail(args, e)
            return
        try:
            self._answer(args, out, err)
        except BaseException as e:
            self._fail(args, e)

    def _answer(self, args: dict, out: bytes, err: bytes) -> None:
        code = self.proc.returncode
        if code < 0 or not out:
            why = (f"it was killed by {signal.Signals(-code).name}" if code < 0
                   else f"it exited with {code}")
            hint = (": C nested deeper than clang's parser can follow (a long chain of operators, "
                    "casts or declarators) does this" if code == -signal.SIGSEGV else
                    f"; the limit 'clang-memory' is {limits.most('clang-memory')}" if code == -signal.SIGKILL
                    else "")
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            self._fail(args, error(f"libclang stopped reading the header ({why}){hint}"
                                   + (f" [{detail[0]}]" if detail else ""), Mark(self.wd.header)))
            return
        answer = json.loads(out)
        if "bug" in answer:
            raise RuntimeError("the libclang process failed:\n" + answer["bug"])
        layouts = factcache.layouts_from_json(answer["layouts"])
        for abi in args:
            if abi in answer["errors"]:
                self.outcome[abi] = SpecError([Diagnostic(d["severity"], d["message"],
                                                          Mark(d["file"], d["line"], d["column"])
                                                          if "file" in d else None, d["context"])
                                               for d in answer["errors"][abi]])
            else:
                self.outcome[abi] = layouts[abi]
        self.files = set(answer["included"])

    def _fail(self, args: dict, e: BaseException) -> None:
        for abi in args:
            self.outcome[abi] = e

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def join(self) -> None:
        """Stop early: gcc and the libclang process are killed, the thread
        waited for."""
        self.wd.running.stop()
        self.kill()
        self.thread.join()

    def included(self) -> set[str]:
        """Every file the parses read through #include (after result())."""
        return self.files

    def result(self, abis: tuple[str, ...] | None = None) -> dict[str, Mapping[str, RecordLayout]]:
        """{abi: {tag: layout}} of the header's own records (on `abis`, default all)."""
        self.thread.join()
        abis = self.abis if abis is None else abis
        for abi in abis:             # the first ABI's errors
            if isinstance(self.outcome[abi], BaseException):
                raise self.outcome[abi]
        return {abi: self.outcome[abi] for abi in abis}


@atexit.register
def _kill_all() -> None:
    """An exit that skipped an analysis's own cleanup leaves no libclang behind."""
    for p in list(_live):
        p.kill()


# --- the child -----------------------------------------------------------------

def _serve(job: dict) -> dict:
    clangparse._clang()                          # before the threads: loads it once
    src = clangparse.Source(job["tu"], job["header"], job["stubs"], time.monotonic() + job["seconds"])
    done: dict[str, object] = {}
    files: set[str] = set()

    def work(abi: str, args: list[str]) -> None:
        try:
            tu = clangparse.parse(src, abi, args)
            if isinstance(tu, SpecError):
                done[abi] = tu
                return
            done[abi] = clangparse.records(src, tu, abi)
            files.update(clangparse.included(tu))
        except SpecError as e:
            done[abi] = e
        except BaseException:
            done[abi] = traceback.format_exc()

    old = threading.stack_size(_STACK)
    try:
        threads = [threading.Thread(target=work, args=(abi, args)) for abi, args in job["abis"].items()]
        for t in threads:
            t.start()
    finally:
        threading.stack_size(old)
    for t in threads:
        t.join()
    bugs = [v for v in done.values() if isinstance(v, str)]
    if bugs:
        return {"bug": bugs[0]}
    return {"layouts": factcache.layouts_to_json({a: v for a, v in done.items() if not isinstance(v, SpecError)}),
            "errors": {a: [d.as_dict() for d in v.diagnostics] for a, v in done.items() if isinstance(v, SpecError)},
            "included": sorted(files)}


def main() -> int:
    job = json.loads(sys.stdin.buffer.read())
    try:
        answer = _serve(job)
    except SpecError as e:                   # libclang cannot be loaded
        answer = {"layouts": factcache.layouts_to_json({}),
                  "errors": {a: [d.as_dict() for d in e.diagnostics] for a in job["abis"]}, "included": []}
    except BaseException:
        answer = {"bug": traceback.format_exc()}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
