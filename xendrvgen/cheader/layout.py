"""Sizes, alignments and offsets of a header's records on each ABI (libclang).

One translation unit per ABI, the same one gcc preprocesses (our <stdint.h>
prelude, then the header and its companions), parsed for the ABI's clang
target with -ffreestanding -nostdinc, so only the header decides the layout.

libclang runs in this process, so it parses only after gcc read the same
TU within the limits (preprocess.py), and through a VFS overlay showing it
exactly the files gcc read: it cannot be made to read /dev/zero.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from .. import limits
from ..diagnostics import Diagnostic, ERROR, Mark, SpecError, error
from .abi import ABIS, C_STD, FIXED_WIDTH, anonymous, fixed_width
from . import preprocess
from .preprocess import Workdir, abi_defines


@dataclass(frozen=True)
class FieldLayout:
    name: str                       # "" for an unnamed struct/union member
    offset: int                     # bytes from the start of the enclosing record
    size: int                       # bytes, the whole array for arrays
    align: int
    type: str                       # as clang spells it ("uint64_t", "struct blkif_request_segment[11]")
    canonical: str                  # element type, typedefs resolved to fixed-width names
    dims: tuple[int, ...]           # array dimensions, outermost first (0: flexible)
    record: "RecordLayout | None"   # layout of the (element) struct/union type
    bit_offset: int | None = None   # bit-fields: offset in bits from the record start
    bit_width: int | None = None


@dataclass(frozen=True)
class RecordLayout:
    kind: str                       # "struct" | "union"
    name: str | None                # tag; None when untagged
    size: int
    align: int
    fields: tuple[FieldLayout, ...]
    file: str
    line: int

    def field(self, name: str) -> FieldLayout:
        return next(f for f in self.fields if f.name == name)


_IDENT = re.compile(r"[A-Za-z_]\w*")
_STACK = 64 << 20      # reserved, used as needed: a chain of ~150,000 typedefs for clang
_cindex = None
_lock = threading.Lock()


def _clang():
    """The clang.cindex module, its library loaded (once; ~30 ms, any thread)."""
    global _cindex
    with _lock:
        if _cindex is None:
            try:
                import clang.cindex as ci
                ci.Index.create()
            except Exception as e:  # ImportError, or LibclangError when the .so is missing
                raise error(f"libclang cannot be loaded ({e}): pip install libclang") from None
            _cindex = ci
    return _cindex


class _Walker:
    """Turns the cursors of one TU into RecordLayout trees."""

    def __init__(self, ci, show, abi: str):
        self.ci, self.show, self.abi = ci, show, abi
        self.max_depth, self.nesting = limits.get("c-depth"), 0
        self.memo: dict[int, RecordLayout] = {}   # a record nested in many others is walked once
        TK = ci.TypeKind
        self.arrays = (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY)

    def _deeper(self, t, steps: int) -> None:
        if steps > self.max_depth:
            loc, name = t.get_declaration().location, t.spelling
            name = name if len(name) <= 60 else name[:57] + "..."
            raise limits.exceeded("c-depth", f"type '{name}' is defined through more than "
                                  f"{limits.most('c-depth')} of typedefs or pointers",
                                  Mark(self.show(loc.file.name) if loc.file else "", loc.line, loc.column))

    def element(self, t) -> tuple[object, tuple[int, ...]]:
        """Array element type (typedefs of arrays seen through) and dims."""
        TK = self.ci.TypeKind
        dims: list[int] = []
        for steps in itertools.count():
            self._deeper(t, steps)
            if t.kind == TK.ELABORATED:
                t = t.get_named_type()
            elif t.kind == TK.TYPEDEF and t.get_canonical().kind in self.arrays:
                t = t.get_declaration().underlying_typedef_type
            elif t.kind in self.arrays:
                dims.append(t.element_count if t.kind == TK.CONSTANTARRAY else 0)
                t = t.element_type
            else:
                return t, tuple(dims)

    def canonical(self, t) -> str:
        TK = self.ci.TypeKind
        stars = ""
        for steps in itertools.count():
            self._deeper(t, steps)
            if t.kind == TK.ELABORATED:
                t = t.get_named_type()
            elif t.kind == TK.TYPEDEF:
                if t.get_typedef_name() in FIXED_WIDTH:
                    return t.get_typedef_name() + stars
                t = t.get_declaration().underlying_typedef_type
            elif t.kind == TK.POINTER:
                stars += " *"
                t = t.get_pointee()
            elif t.kind == TK.RECORD:
                decl = t.get_declaration()
                kind = "union" if decl.kind == self.ci.CursorKind.UNION_DECL else "struct"
                return (anonymous(kind) if decl.is_anonymous() or not decl.spelling
                        else f"{kind} {decl.spelling}") + stars
            elif t.kind == TK.ENUM:
                decl = t.get_declaration()
                return (f"enum {decl.spelling}" if decl.spelling and not decl.is_anonymous()
                        else anonymous("enum")) + stars
            else:
                spelling = t.get_canonical().spelling.replace("const ", "").replace("volatile ", "")
                return fixed_width(spelling, self.abi) + stars

    def record(self, cursor) -> RecordLayout:
        key = cursor.hash
        if key not in self.memo:
            self.nesting += 1
            if self.nesting > self.max_depth:
                raise limits.exceeded("c-depth", "struct and union definitions nest deeper than "
                                      f"{limits.most('c-depth')}", Mark(self.show(cursor.location.file.name),
                                                                       cursor.location.line))
            try:
                self.memo[key] = self._record(cursor)
            finally:
                self.nesting -= 1
        return self.memo[key]

    def _record(self, cursor) -> RecordLayout:
        kind = "union" if cursor.kind == self.ci.CursorKind.UNION_DECL else "struct"
        t = cursor.type
        fields = []
        for f in t.get_fields():
            ft = f.type
            elem, dims = self.element(ft)
            nested = None
            if elem.get_canonical().kind == self.ci.TypeKind.RECORD:
                decl = elem.get_canonical().get_declaration()
                nested = self.record(decl.get_definition() or decl)
            bits = f.get_field_offsetof()
            bitfield = f.is_bitfield()
            fields.append(FieldLayout(
                # an unnamed member's cursor is spelled after its type, not a name
                name=f.spelling if _IDENT.fullmatch(f.spelling) else "",
                offset=bits // 8, size=max(ft.get_size(), 0), align=max(ft.get_align(), 0),
                type=self.show(ft.spelling), canonical=self.canonical(elem), dims=dims, record=nested,
                bit_offset=bits if bitfield else None,
                bit_width=f.get_bitfield_width() if bitfield else None))
        name = None if cursor.is_anonymous() else cursor.spelling
        loc = cursor.location
        return RecordLayout(kind, name, t.get_size(), t.get_align(), tuple(fields),
                            self.show(os.path.normpath(loc.file.name)) if loc.file else "", loc.line)


def _overlay(wd: Workdir, abi: str, files: tuple[str, ...]) -> str:
    """A VFS overlay of just the files gcc read for this ABI: an include gcc
    did not take (under `#ifdef __clang__`) is not found instead of read."""
    path = os.path.join(wd.path, f"{abi}.vfs.json")
    roots = [{"type": "file", "name": os.path.normpath(f), "external-contents": os.path.realpath(f)}
             for f in files]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"version": 0, "fallthrough": False, "use-external-names": False, "roots": roots}, f)
    return path


def _parse(wd: Workdir, abi: str):
    """Parse the TU for one ABI; returns the TU or a SpecError."""
    ci = _clang()                             # loads libclang while gcc runs
    files = wd.preprocessed(abi).files        # waits for gcc; raises its error
    defs = [f"-D{k}={v}" for k, v in abi_defines(abi, wd.profile, compiler_macros=False).items()]
    args = [f"--target={ABIS[abi].target}", "-ffreestanding", "-nostdinc", C_STD,
            *wd.include_args(), *defs, "-ivfsoverlay", _overlay(wd, abi, files)]
    try:
        # an Index per parse: parses run in threads (ctypes releases the GIL)
        tu = ci.Index.create().parse(wd.tu, args=args,
                                     options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    except ci.TranslationUnitLoadError as e:
        return error(f"libclang could not parse the header: {e}", Mark(wd.header), f"ABI {abi}")
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        return SpecError([Diagnostic(ERROR, f"clang: {d.spelling}", Mark(
            wd.show(os.path.normpath(d.location.file.name)) if d.location.file else wd.header,
            d.location.line, d.location.column), f"ABI {abi}") for d in errors])
    return tu


def _records(wd: Workdir, tu, abi: str, names: set[str] | None = None) -> Mapping[str, RecordLayout]:
    """Every tagged struct/union the header itself defines.

    names, when known (from pycparser), spares asking where each of the
    TU's few hundred declarations comes from: only those are looked at.
    """
    ci = _clang()
    header = os.path.normpath(wd.header)
    walker = _Walker(ci, wd.show, abi)
    records: dict[str, RecordLayout] = {}
    kinds = (ci.CursorKind.STRUCT_DECL, ci.CursorKind.UNION_DECL, ci.CursorKind.TYPEDEF_DECL)

    def visit(c) -> None:
        if c.kind != ci.CursorKind.TYPEDEF_DECL and c.is_definition() and not c.is_anonymous():
            records[c.spelling] = walker.record(c)
        for child in c.get_children():        # nested tagged definitions are file-scope in C
            if child.kind in kinds:
                visit(child)

    for c in tu.cursor.get_children():
        wd.check_time(f"libclang, ABI {abi}")
        if c.kind in kinds and (names is None or c.spelling in names):
            f = c.location.file               # only the header's own declarations
            if f is not None and os.path.normpath(f.name) == header:
                visit(c)
    return MappingProxyType(records)


class Parsing:
    """libclang parses of the TU, one thread per ABI (ctypes releases the GIL,
    so they run while the caller does Python work); result() walks them.
    Each waits for gcc's run of its ABI, started first."""

    def __init__(self, wd: Workdir, abis: tuple[str, ...]):
        if wd.running is None:
            preprocess.start(wd, abis)
        self.wd, self.abis = wd, abis
        self.tus: dict[str, object] = {}
        # libclang parses on a thread of its own with an 8 MiB stack, which C
        # nested deep enough overflows (a crash: a chain of 25,000 typedefs
        # does it): it parses on ours instead, given a larger stack.
        os.environ["LIBCLANG_NOTHREADS"] = "1"
        old = threading.stack_size(_STACK)
        try:
            self.threads = [threading.Thread(target=self._work, args=(abi,)) for abi in abis]
            for t in self.threads:
                t.start()
        finally:
            threading.stack_size(old)

    def _work(self, abi: str) -> None:
        try:
            self.tus[abi] = _parse(self.wd, abi)
        except BaseException as e:   # libclang missing, or a bug: re-raised by result()
            self.tus[abi] = e

    def _wait(self) -> None:
        for t in self.threads:
            t.join()

    def join(self) -> None:
        """Stop early: gcc is killed if still running (so no thread waits for
        it), the parses under way are waited for."""
        self.wd.running.stop()
        self._wait()

    def included(self) -> set[str]:
        """Every file the parses read through #include (after result())."""
        files: set[str] = set()
        for tu in self.tus.values():
            if not isinstance(tu, BaseException):
                files.update(os.path.realpath(inc.include.name) for inc in tu.get_includes())
        return files

    def result(self, names: dict[str, set[str]] | None = None) -> dict[str, Mapping[str, RecordLayout]]:
        """{abi: {tag: layout}}; names: {abi: tags to look for}, if known."""
        self._wait()
        for abi in self.abis:        # the first ABI's errors
            if isinstance(self.tus[abi], BaseException):
                raise self.tus[abi]
        return {abi: _records(self.wd, self.tus[abi], abi, names and names.get(abi))
                for abi in self.abis}


def start(wd: Workdir, abis: tuple[str, ...]) -> Parsing:
    return Parsing(wd, abis)


def layouts(wd: Workdir, abis: tuple[str, ...]) -> dict[str, Mapping[str, RecordLayout]]:
    """Layouts per ABI: {abi: {tag: RecordLayout}}."""
    return Parsing(wd, abis).result()


def layouts_for(wd: Workdir, abi: str) -> Mapping[str, RecordLayout]:
    """Layouts of one ABI."""
    return layouts(wd, (abi,))[abi]
