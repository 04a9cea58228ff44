"""The verdict of comparing the spec with real headers, remembered by
everything that shapes it (for `validate`, and the validation in `check`
and `ci`).

With the header facts cached, a validation still loads the spec (YAML,
schema, model), decodes each header's facts and compares the documentation:
about 0.1 s for the answer it gave last time.  An entry holds the report
rendered in every format and whether it failed, and is used only while all
of this still holds:

  - its inputs: the format, the generator version, the Python version, the
    spec's name as shown and its bytes, the names and bytes of the header
    profiles and the bytes of the documentation baseline, the headers asked
    for (none: the installed ones), --include and --define,
    XENDRVGEN_LIMITS, the sha256 of every module of the package, and the
    stamps of PyYAML, jsonschema, pycparser, libclang and gcc;
  - every glob of the header profiles (where installed copies are, their
    include directories) still matches the same paths, so a kernel's
    headers installed or removed count;
  - every file the analyses read (each copy, what it includes, its
    companions, its profile) has the same sha256.

An entry is data, never code: cachefile.seal()'d JSON, every type checked
on load.  Anything else (damaged, truncated, planted, of another format or
other inputs) is a miss: validation runs and the entry is rewritten.  One
entry per spec path, name, header list and options, overwritten in place.
XENDRVGEN_NO_CACHE=1 turns it off.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from xendrvgen import __version__
from xendrvgen.base import cachefile, inputstamp, limits
from xendrvgen.base.paths import DOC_BASELINE, HEADER_PROFILES_DIR, cache_dir

FORMAT = 1
FORMATS = ("text", "json", "github")
_TAG = b"xendrvgen-verdict"
_MAX_BYTES = 16 << 20          # of an entry or a file it names; real ones are under 0.1 MB
_LIBRARIES = ("yaml", "jsonschema", "pycparser", "clang")


def enabled() -> bool:
    return not os.environ.get("XENDRVGEN_NO_CACHE")


@dataclass(frozen=True)
class Verdict:
    """A remembered report: what Report offers its callers."""
    failed: bool
    renders: dict

    def render(self, fmt: str = "text") -> str:
        return self.renders[fmt]


def _data_files() -> list | None:
    """[name, sha256] of every header profile and the documentation baseline."""
    try:
        names = sorted(n for n in os.listdir(HEADER_PROFILES_DIR) if n.endswith(".yaml"))
    except OSError:
        return None
    out = [[n, cachefile.digest(HEADER_PROFILES_DIR / n, _MAX_BYTES)] for n in names] + \
        [["docs", cachefile.digest(DOC_BASELINE, _MAX_BYTES)]]
    return None if any(d is None for _, d in out) else out


def _matches(pattern: str) -> list[str]:
    return sorted(glob.glob(pattern))


class Slot:
    """Where the verdict of one validation lives, and what it must have been computed from."""

    def __init__(self, path: Path, spec_path: str, key: list):
        self.path, self.spec_path, self.key = path, spec_path, key
        self.inputs: str | None = None     # as load() found them

    def _inputs(self) -> str | None:
        spec = cachefile.digest(self.spec_path, limits.get("spec-bytes"))
        data = _data_files()
        if spec is None or data is None:
            return None
        return hashlib.sha256(json.dumps([*self.key, spec, data]).encode()).hexdigest()

    def load(self) -> Verdict | None:
        """The remembered verdict, or None.  Call it before validating: what
        it reads is what store() will say the report was computed from."""
        self.inputs = self._inputs()
        body = cachefile.unseal(_TAG, cachefile.read(self.path, _MAX_BYTES))
        if self.inputs is None or body is None:
            return None
        try:
            return _verdict_of(json.loads(body.decode("utf-8")), self.inputs)
        except (ValueError, TypeError, KeyError, RecursionError):
            return None                 # bad UTF-8, JSON or shape

    def store(self, report) -> None:
        """Remember the report of a validation that ran after load() (best
        effort; an input that changed meanwhile: nothing is stored)."""
        if report.sources is None or self.inputs is None or self._inputs() != self.inputs:
            return
        from xendrvgen.headers.profiles import all_profiles
        patterns = sorted({p for prof in all_profiles()
                           for p in (*prof.locate, *(d for d in prof.include_dirs if os.path.isabs(d)))})
        body = json.dumps({"format": FORMAT, "inputs": self.inputs,
                           "globs": [[p, _matches(p)] for p in patterns],
                           "files": [list(pair) for pair in report.sources],
                           "failed": bool(report.failed),
                           "renders": {f: report.render(f) for f in FORMATS}}, separators=(",", ":"))
        cachefile.write(self.path, cachefile.seal(_TAG, body.encode("utf-8", "surrogatepass")))


def _strs(v) -> list:
    if type(v) is not list or any(type(s) is not str for s in v):
        raise TypeError("not a list of strings")
    return v


def _verdict_of(entry, inputs: str) -> Verdict | None:
    """The verdict of a parsed entry, or None when it no longer holds."""
    if type(entry) is not dict or entry.get("format") != FORMAT or entry.get("inputs") != inputs:
        return None
    for pair in entry["globs"]:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
            raise TypeError("not a [pattern, paths] pair")
        if _matches(pair[0]) != _strs(pair[1]):
            return None
    for pair in entry["files"]:
        if len(_strs(pair)) != 2 or cachefile.digest(pair[0], _MAX_BYTES) != pair[1]:
            return None
    renders, failed = entry["renders"], entry["failed"]
    if type(failed) is not bool or type(renders) is not dict or set(renders) != set(FORMATS) \
            or any(type(t) is not str for t in renders.values()):
        return None
    return Verdict(failed, renders)


def slot(spec_path: str, spec_name: str, headers=None, includes=(), defines=()) -> Slot | None:
    """The Slot of validating spec_path (shown as spec_name) against `headers`
    (None: the installed copies) with --include and --define; None when the
    cache is off."""
    if not enabled():
        return None
    where = [os.path.abspath(spec_path), spec_name,
             [[h, os.path.abspath(h)] for h in headers] if headers else None,
             [os.path.abspath(d) for d in includes], list(defines)]
    key = [FORMAT, __version__, sys.version, where, os.environ.get(limits.ENV, ""),
           inputstamp.library_stamp(_LIBRARIES), inputstamp.tool_stamp("gcc"), inputstamp.code_digest()]
    name = hashlib.sha256(json.dumps(where).encode()).hexdigest()
    return Slot(cache_dir() / "verdicts" / f"{name}.json", spec_path, key)


def remembered(slot: Slot | None, validate):
    """The slot's verdict when it holds, else validate()'s report, then remembered."""
    report = slot.load() if slot else None
    if report is None:
        report = validate()
        if slot:
            slot.store(report)
    return report
