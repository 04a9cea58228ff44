"""The rendered files of each OS, remembered by everything that shapes them.

Rendering every OS through Jinja is most of a cold `check` or `generate`,
and a pre-commit hook runs it on every commit with nothing changed.  One
entry per OS (and spec file and template directory) holds the text of each
of its files with the templates Jinja loaded for that file (its own, what it
extends, imports and includes, and any name it looked for and did not find),
each with the sha256 of its source.  A file is taken from the entry only
when all of this still holds:

  - the entry's inputs: the format, the generator version, the Python
    version, the spec's display name and bytes, the OS profile's name and
    bytes, XENDRVGEN_LIMITS, the sha256 of every module of the xendrvgen
    package, and the size and mtime of every file of the Jinja2, MarkupSafe
    and PyYAML installs (the way the header-facts cache stamps a toolchain);
  - the sources of the templates that file read (an absent one still absent).

A file whose templates changed is rendered again and the others are reused,
so a new OS, template or macro file needs nothing here.  On a full hit
neither the spec nor a profile is parsed (generate.Inputs loads them on
first use): `check` hashes its inputs and compares files.

An entry is data, never code: cachefile.seal()'d JSON, every type checked
on load.  Anything else (damaged, truncated, planted, of another format or
other inputs) is a miss: the OS is rendered afresh and the entry rewritten.
Entries overwrite their slot, so the cache holds one per spec, OS and
template directory.  XENDRVGEN_NO_CACHE=1 turns it off.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from xendrvgen import __version__
from xendrvgen.base import cachefile, inputstamp

FORMAT = 1
_TAG = b"xendrvgen-rendered"
_MAX_BYTES = 64 << 20        # of an entry (every file of one OS: under 0.5 MB today)
_NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*(?:/[A-Za-z0-9_+-][A-Za-z0-9_.+-]*)*")
_THIRD_PARTY = ("jinja2", "markupsafe", "yaml")   # their code shapes the output too


def enabled() -> bool:
    return not os.environ.get("XENDRVGEN_NO_CACHE")


def source_digest(text: str) -> str:
    """How a template's source is fingerprinted: by render's loader when it
    reads one, and here when an entry's templates are checked."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class RenderedFile:
    """One output of render (render.RenderedFile), as rendered or as remembered."""
    os: str
    path: str              # POSIX path relative to the output root: <os>/<output path>
    template: str
    text: str              # the whole file, banner included
    # Every template Jinja loaded for it (its own, extended, imported, included,
    # or looked for and absent) with source_digest() of its source (None:
    # absent); None when unknown (an environment not from render.environment()).
    reads: tuple | None = field(default=None, compare=False)


# --- what every entry depends on --------------------------------------------

def _sha_of(path: Path) -> str | None:
    from xendrvgen.base import limits
    return cachefile.digest(path, limits.get("spec-bytes"))


# --- the templates a file read ----------------------------------------------

class _Templates:
    """The current sources of templates in one directory, each read once."""

    def __init__(self, templates_dir: Path):
        self.dir = templates_dir
        self._now: dict[str, str | None] = {}

    def now(self, name: str) -> str | None:
        """The digest of the template's source, None when absent (as Jinja's
        FileSystemLoader finds and reads it), "?" when unreadable."""
        if name not in self._now:
            path = self.dir.joinpath(*name.split("/"))
            if not os.path.isfile(path):
                self._now[name] = None
            else:
                try:
                    with open(path, encoding="utf-8") as f:
                        self._now[name] = source_digest(f.read())
                except (OSError, UnicodeDecodeError):
                    self._now[name] = "?"
        return self._now[name]


# --- entries -------------------------------------------------------------------

class Slot:
    """Where one OS's entry lives, and the inputs it must have been made from."""

    def __init__(self, os_name: str, inputs: str, path: Path, templates: _Templates):
        self.os, self.inputs, self.path, self._templates = os_name, inputs, path, templates

    def load(self) -> tuple[list[RenderedFile], bool] | None:
        """The entry's files whose templates are unchanged, in order, and
        whether that is all of them; None on a miss."""
        body = cachefile.unseal(_TAG, cachefile.read(self.path, _MAX_BYTES))
        if body is None:
            return None
        try:
            return self._files(json.loads(body.decode("utf-8")))
        except (ValueError, TypeError, RecursionError):
            return None              # bad UTF-8 or JSON, a wrong shape, nesting too deep

    def _files(self, entry) -> tuple[list[RenderedFile], bool]:
        if type(entry) is not dict or entry.get("format") != FORMAT or entry.get("inputs") != self.inputs:
            raise ValueError("an entry of another format or other inputs")
        files = entry.get("files")
        if type(files) is not list or not files:
            raise ValueError("no files")
        out = []
        for item in files:
            if type(item) is not list or len(item) != 4:
                raise ValueError("not [path, template, text, reads]")
            path, template, text, reads = item
            if not (type(path) is str and path.startswith(self.os + "/") and _NAME.fullmatch(path)
                    and ".." not in path.split("/") and type(template) is str and type(text) is str
                    and type(reads) is list and reads):
                raise ValueError("a file of the wrong shape")
            pairs = tuple(_read_pair(r) for r in reads)
            if all(self._templates.now(name) == digest for name, digest in pairs):
                out.append(RenderedFile(self.os, path, template, text, pairs))
        return out, len(out) == len(files)

    def store(self, files: list[RenderedFile]) -> None:
        """Remember one OS's files (all of them, in order); nothing when a
        file's reads are unknown."""
        if any(f.reads is None or not f.reads or not all(_NAME.fullmatch(n) for n, _ in f.reads)
               for f in files):
            return
        body = json.dumps({"format": FORMAT, "inputs": self.inputs,
                           "files": [[f.path, f.template, f.text, [list(r) for r in f.reads]]
                                     for f in files]},
                          separators=(",", ":"), ensure_ascii=False)
        cachefile.write(self.path, cachefile.seal(_TAG, body.encode("utf-8", "surrogatepass")))


def _read_pair(r) -> tuple:
    if type(r) is not list or len(r) != 2 or type(r[0]) is not str or not _NAME.fullmatch(r[0]) \
            or ".." in r[0].split("/") or not (r[1] is None or type(r[1]) is str):
        raise ValueError("not [template, digest]")
    return r[0], r[1]


def slots(spec_path: str, spec_name: str, os_names, profiles_dir, templates_dir) -> dict[str, Slot] | None:
    """One Slot per OS name, or None when the cache is off or an input
    cannot be read (the render that follows reports why)."""
    if not enabled():
        return None
    spec_sha = _sha_of(Path(spec_path))
    if spec_sha is None:
        return None
    templates_dir = Path(templates_dir)
    templates = _Templates(templates_dir)
    common = [FORMAT, __version__, sys.version, spec_name, spec_sha,
              os.environ.get("XENDRVGEN_LIMITS", ""), inputstamp.library_stamp(_THIRD_PARTY), inputstamp.code_digest()]
    where = [os.path.abspath(spec_path), os.path.abspath(templates_dir)]
    from xendrvgen.base.paths import cache_dir
    out = {}
    for name in os_names:
        profile_sha = _sha_of(Path(profiles_dir) / f"{name}.yaml")
        if profile_sha is None:
            return None
        inputs = hashlib.sha256(json.dumps([*common, name, profile_sha]).encode()).hexdigest()
        slot_id = hashlib.sha256(json.dumps([*where, name]).encode()).hexdigest()
        out[name] = Slot(name, inputs, cache_dir() / "rendered" / f"{slot_id}.json", templates)
    return out
