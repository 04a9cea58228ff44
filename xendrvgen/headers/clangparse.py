"""libclang's view of one translation unit: RecordLayout trees per ABI.

One translation unit per ABI, the same one gcc preprocesses (our <stdint.h>
prelude, then the header and its companions), parsed for the ABI's clang
target with -ffreestanding -nostdinc, so only the header decides the layout.

libclang parses only after gcc read the same TU within the limits
(preprocess.py), and through a VFS overlay showing it exactly the files gcc
read: it cannot be made to read /dev/zero.  These functions run in the child
process of clangrun.py, since C nested deeply enough crashes its parser.
"""
from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from xendrvgen.base import limits
from xendrvgen.base.diagnostics import Diagnostic, ERROR, Mark, SpecError, error
from .abi import ABIS, C_STD, FIXED_WIDTH, anonymous, fixed_width
from . import preprocess
from .preprocess import Workdir, abi_defines
from .recordlayout import FieldLayout, RecordLayout

_IDENT = re.compile(r"[A-Za-z_]\w*")
_cindex = None


def _clang():
    """The clang.cindex module, its library loaded (once; ~30 ms, any thread)."""
    global _cindex
    if _cindex is None:                 # clangrun loads it before starting its threads
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


def overlay(wd: Workdir, abi: str, files: tuple[str, ...]) -> str:
    """A VFS overlay of just the files gcc read for this ABI: an include gcc
    did not take (under `#ifdef __clang__`) is not found instead of read."""
    path = os.path.join(wd.path, f"{abi}.vfs.json")
    roots = [{"type": "file", "name": os.path.normpath(f), "external-contents": os.path.realpath(f)}
             for f in files]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"version": 0, "fallthrough": False, "use-external-names": False, "roots": roots}, f)
    return path


def clang_args(wd: Workdir, abi: str) -> list[str]:
    """libclang's arguments for one ABI, once gcc has read the TU (raises its error)."""
    files = wd.preprocessed(abi).files
    defs = [f"-D{k}={v}" for k, v in abi_defines(abi, wd.profile, compiler_macros=False).items()]
    return [f"--target={ABIS[abi].target}", "-ffreestanding", "-nostdinc", C_STD,
            *wd.include_args(), *defs, "-ivfsoverlay", overlay(wd, abi, files)]


@dataclass(frozen=True)
class Source:
    """What a parse needs to know of the work directory (clangrun sends it
    to the process that runs libclang)."""
    tu: str                     # the translation unit
    header: str                 # the header analysed (only its records count)
    stubs: str                  # the work directory, shown as <stubs>
    deadline: float             # time.monotonic() by which the walk must end

    def show(self, text: str) -> str:
        return text.replace(self.stubs, preprocess.STUBS) if self.stubs else text

    def check_time(self, what: str) -> None:
        preprocess.check_time(self.deadline, self.header, what)


def parse(src: Source, abi: str, args: list[str]):
    """Parse the TU for one ABI; returns the TU or a SpecError."""
    ci = _clang()
    try:
        # an Index per parse: parses run in threads (ctypes releases the GIL)
        tu = ci.Index.create().parse(src.tu, args=args,
                                     options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    except ci.TranslationUnitLoadError as e:
        return error(f"libclang could not parse the header: {e}", Mark(src.header), f"ABI {abi}")
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        return SpecError([Diagnostic(ERROR, f"clang: {d.spelling}", Mark(
            src.show(os.path.normpath(d.location.file.name)) if d.location.file else src.header,
            d.location.line, d.location.column), f"ABI {abi}") for d in errors])
    return tu


def records(src: Source, tu, abi: str) -> Mapping[str, RecordLayout]:
    """Every tagged struct/union the header itself defines."""
    ci = _clang()
    header = os.path.normpath(src.header)
    walker = _Walker(ci, src.show, abi)
    found: dict[str, RecordLayout] = {}
    kinds = (ci.CursorKind.STRUCT_DECL, ci.CursorKind.UNION_DECL, ci.CursorKind.TYPEDEF_DECL)

    def visit(c) -> None:
        if c.kind != ci.CursorKind.TYPEDEF_DECL and c.is_definition() and not c.is_anonymous():
            found[c.spelling] = walker.record(c)
        for child in c.get_children():        # nested tagged definitions are file-scope in C
            if child.kind in kinds:
                visit(child)

    for c in tu.cursor.get_children():
        src.check_time(f"libclang, ABI {abi}")
        if c.kind in kinds:
            f = c.location.file               # only the header's own declarations
            if f is not None and os.path.normpath(f.name) == header:
                visit(c)
    return MappingProxyType(found)


def included(tu) -> set[str]:
    """Every file a parse read through #include."""
    return {os.path.realpath(inc.include.name) for inc in tu.get_includes()}
