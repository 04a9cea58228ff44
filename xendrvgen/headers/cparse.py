"""Names, field order, types and constants of a header, read with pycparser.

Input is one ABI's `gcc -E -dD` output (preprocess.py), made ready by
ctext.py.  "Own" files are the header and its companions: their constants
and enums are kept; records are kept when the header itself declares them,
which includes what DEFINE_RING_TYPES expands to there (blkif_sring ...) but
not ring.h's.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from pycparser import c_ast, c_generator, c_parser

from xendrvgen.base import limits
from xendrvgen.base.diagnostics import Mark, error
from .abi import FIXED_WIDTH, anonymous, fixed_width
from .cexpr import Budget, NotConstant, TooLarge, eval_node, evaluate_many, expand
from .ctext import Macro, prepare
from .preprocess import Preprocessed, check_time


@dataclass(frozen=True)
class CRecord:
    kind: str                      # "struct" | "union"
    name: str | None               # tag; None when untagged
    fields: tuple["CField", ...]
    file: str
    line: int

    def field(self, name: str) -> "CField":
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class CField:
    name: str | None               # None for an unnamed struct/union member
    spelled: str                   # type as written: "blkif_sector_t", "struct blkif_sring *"
    canonical: str                 # typedefs resolved down to fixed-width names: "uint64_t"
    dims: tuple[int, ...]          # array dimensions, outermost first (0: flexible)
    bits: int | None               # bit-field width
    record: CRecord | None         # struct/union defined inline in this field
    line: int


@dataclass(frozen=True)
class TypeAlias:
    name: str
    spelled: str                   # what it stands for, as written
    canonical: str
    dims: tuple[int, ...]
    file: str
    line: int
    via: str                       # "typedef" | "macro" (Xen's #define blkif_sector_t uint64_t)


@dataclass(frozen=True)
class Constant:
    name: str
    value: int | str
    text: str                      # the definition as written ("(1<<0)"), "" for implicit enumerators
    file: str
    line: int
    kind: str = "macro"            # "macro" | "enum"


@dataclass(frozen=True)
class SkippedMacro:
    name: str
    text: str
    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class ParsedUnit:
    abi: str
    records: Mapping[str, CRecord]        # tag -> record declared by the header
    typedefs: Mapping[str, TypeAlias]     # own, type-macro and referenced aliases
    constants: Mapping[str, Constant]     # own object-like macros and enumerators
    skipped: Mapping[str, SkippedMacro]   # own macros that are not constants, and why


def _parse_error(exc: Exception, fallback: str):
    msg = str(exc)
    m = re.match(r"^(.*?):(\d+):(\d+): (.*)$", msg)
    if m:
        what = m[4]
        if what.startswith("before: "):       # pycparser's way of naming the token
            what = f"before '{what[len('before: '):]}'"
        return error(f"C syntax error {what}", Mark(os.path.normpath(m[1]), int(m[2]), int(m[3])))
    return error(f"C syntax error: {msg}", Mark(fallback))


_C_TYPE_WORDS = {"char", "short", "int", "long", "signed", "unsigned", "float", "double",
                 "void", "_Bool", "struct", "union", "enum", "const", "volatile"}


# --- records and types -----------------------------------------------------

class _Types:
    """Spelled and canonical forms of pycparser types, given the typedefs."""

    def __init__(self, typedefs: dict[str, c_ast.Typedef], eval_dim, abi: str):
        self.typedefs = typedefs
        self.eval_dim = eval_dim
        self.abi = abi
        self.max_depth = limits.get("c-depth")

    def unwrap(self, t: c_ast.Node) -> tuple[c_ast.Node, tuple[int, ...], int]:
        """(base type node, array dims outermost first, pointer depth)."""
        dims: list[int] = []
        ptr = 0
        while True:
            if isinstance(t, c_ast.ArrayDecl):
                dims.append(0 if t.dim is None else self.eval_dim(t.dim))
                t = t.type
            elif isinstance(t, c_ast.PtrDecl):
                ptr += 1
                dims = []  # a pointer to an array is one pointer
                t = t.type
            elif isinstance(t, c_ast.TypeDecl):
                t = t.type
            else:
                return t, tuple(dims), ptr

    @staticmethod
    def base(t: c_ast.Node) -> c_ast.Node:
        """The base type node, without evaluating array sizes."""
        while isinstance(t, (c_ast.ArrayDecl, c_ast.PtrDecl, c_ast.TypeDecl)):
            t = t.type
        return t

    @staticmethod
    def base_name(base: c_ast.Node) -> str:
        if isinstance(base, c_ast.IdentifierType):
            return " ".join(base.names)
        kind = {c_ast.Struct: "struct", c_ast.Union: "union", c_ast.Enum: "enum"}[type(base)]
        return f"{kind} {base.name}" if base.name else anonymous(kind)

    def spelled(self, t: c_ast.Node) -> tuple[str, tuple[int, ...]]:
        base, dims, ptr = self.unwrap(t)
        return self.base_name(base) + " *" * ptr, dims

    def canonical(self, t: c_ast.Node, seen: frozenset[str] = frozenset()) -> tuple[str, tuple[int, ...]]:
        base, dims, ptr = self.unwrap(t)
        name = self.base_name(base)
        if isinstance(base, c_ast.IdentifierType) and name in self.typedefs and \
                name not in FIXED_WIDTH and name not in seen:
            if len(seen) >= self.max_depth:
                raise _too_deep(f"type '{name}' is defined through more than {limits.most('c-depth')} "
                                "of typedefs", self.typedefs[name].coord)
            inner, inner_dims = self.canonical(self.typedefs[name].type, seen | {name})
            if ptr:
                return inner + " *" * ptr, dims
            return inner, dims + inner_dims
        if isinstance(base, c_ast.IdentifierType):
            name = fixed_width(name, self.abi)
        return name + " *" * ptr, dims


def _too_deep(what: str, coord):
    return limits.exceeded("c-depth", what, Mark(os.path.normpath(coord.file), coord.line, coord.column))


def _nested(node: c_ast.Node, depth: int) -> None:
    if depth > limits.get("c-depth"):
        raise _too_deep(f"struct and union definitions nest deeper than {limits.most('c-depth')}", node.coord)


def _record(node: c_ast.Struct | c_ast.Union, types: _Types, lines: "_SourceLines", depth: int = 0) -> CRecord:
    _nested(node, depth)
    kind = "struct" if isinstance(node, c_ast.Struct) else "union"
    fields = []
    for decl in node.decls or ():
        t = decl.type
        base = types.base(t)
        inline = _record(base, types, lines, depth + 1) if isinstance(base, (c_ast.Struct, c_ast.Union)) \
            and base.decls is not None else None
        spelled = lines.macro_spelling(decl, types.spelled(t)[0])
        canonical, cdims = types.canonical(t)
        bits = types.eval_dim(decl.bitsize) if decl.bitsize is not None else None
        fields.append(CField(decl.name, spelled, canonical, cdims, bits, inline, decl.coord.line))
    return CRecord(kind, node.name, tuple(fields), os.path.normpath(node.coord.file), node.coord.line)


class _SourceLines:
    """Recovers type names the preprocessor expanded (Xen's blkif_sector_t is
    a macro): the header's own line is checked for a type macro whose
    expansion is the parsed type, next to the field name."""

    def __init__(self, header: str, text: str | None, type_macros: dict[str, str]):
        self.header = header
        self.lines = text.split("\n") if text is not None and type_macros else []
        self.type_macros = type_macros

    def macro_spelling(self, decl: c_ast.Decl, spelled: str) -> str:
        line = decl.coord.line
        if not self.lines or decl.name is None or os.path.normpath(decl.coord.file) != self.header \
                or not 0 < line <= len(self.lines):
            return spelled
        src = re.sub(r"/\*.*?(\*/|$)|//.*$", " ", self.lines[line - 1])
        if not re.search(rf"\b{re.escape(decl.name)}\b", src):
            return spelled
        base, stars = spelled.rstrip(" *"), spelled[len(spelled.rstrip(" *")):]
        for mac, expansion in self.type_macros.items():
            if expansion == base and re.search(rf"\b{re.escape(mac)}\b", src):
                return mac + stars
        return spelled


@functools.lru_cache(maxsize=8)
def _parse_c(code: str, filename: str) -> c_ast.FileAST:
    # ABIs often preprocess to the same kept text: parse it once (never mutated)
    return c_parser.CParser().parse(code, filename)


# --- the unit --------------------------------------------------------------

def _is_type(body: str, typedef_names: frozenset[str]) -> bool:
    words = body.replace("*", " ").split()
    if not words or not re.fullmatch(r"[\w\s*]+", body):
        return False
    if words[0] in ("struct", "union", "enum"):
        return len(words) == 2
    return all(w in _C_TYPE_WORDS or w in typedef_names or w in FIXED_WIDTH for w in words)


def _macros(macros: Mapping[str, Macro], own: set[str], typedef_names: frozenset[str]):
    """Own object-like macros: (constants, skipped, type macros name -> type)."""
    constants: dict[str, Constant] = {}
    skipped: dict[str, SkippedMacro] = {}
    type_macros: dict[str, str] = {}
    pending: dict[str, str] = {}          # name -> expanded body, all evaluated in one parse
    budget = Budget()
    for mac in macros.values():
        if mac.file not in own:
            continue
        if mac.params is not None:
            why = "function-like macro"
        elif not mac.body:
            why = "empty definition"
        elif _is_type(mac.body, typedef_names):
            type_macros[mac.name] = " ".join(mac.body.split())
            continue
        else:
            try:
                pending[mac.name] = expand(mac.body, macros, budget)
                continue
            except NotConstant as e:
                why = str(e)
            except TooLarge as e:
                raise limits.exceeded(e.limit, f"macro '{mac.name}' {e.what}", Mark(mac.file, mac.line)) from None
        skipped[mac.name] = SkippedMacro(mac.name, mac.body, mac.file, mac.line, why)
    values = evaluate_many(list(pending.values()), typedef_names)
    for name, expr in pending.items():
        mac, value = macros[name], values[expr]
        if isinstance(value, NotConstant):
            skipped[name] = SkippedMacro(name, mac.body, mac.file, mac.line, str(value))
        else:
            constants[name] = Constant(name, value, mac.body, mac.file, mac.line)
    return constants, skipped, type_macros


def _enumerators(enum: c_ast.Enum, constants: dict[str, Constant],
                 skipped: dict[str, SkippedMacro]) -> None:
    value = -1
    for en in enum.values.enumerators:
        file, text = os.path.normpath(en.coord.file), ""
        if en.value is None:
            value += 1
        else:
            text = c_generator.CGenerator().visit(en.value)
            try:
                value = eval_node(en.value)
            except NotConstant as e:
                skipped[en.name] = SkippedMacro(en.name, text, file, en.coord.line, str(e))
                continue
        constants[en.name] = Constant(en.name, value, text, file, en.coord.line, kind="enum")


def _dim_evaluator(node: c_ast.Node) -> int:
    try:
        v = eval_node(node)
    except NotConstant as e:
        raise error(f"array size is not a constant: {e}",
                    Mark(node.coord.file, node.coord.line, node.coord.column)) from None
    if not isinstance(v, int):
        raise error("array size is a string", Mark(node.coord.file, node.coord.line))
    return v


def parse_unit(pre: Preprocessed, header_text: str | None = None) -> ParsedUnit:
    """Records, typedefs and constants of one ABI's preprocessed header.

    header_text (the header's source) lets fields keep type-macro spellings.
    """
    header = os.path.normpath(pre.header)
    own = {header, *map(os.path.normpath, pre.companions)}
    code, macros = prepare(pre.text, own)
    check_time(pre.deadline, header, f"reading the preprocessed text, ABI {pre.abi}")
    try:
        ast = _parse_c(code, header)
    except c_parser.ParseError as e:
        raise _parse_error(e, header) from None
    except RecursionError:                    # pycparser descends recursively
        raise limits.exceeded("c-depth", "the header's C nests too deeply to be parsed (braces, parentheses "
                              f"or operators; more than {limits.most('c-depth')})", Mark(header)) from None
    check_time(pre.deadline, header, f"pycparser, ABI {pre.abi}")

    typedef_nodes = {n.name: n for n in ast.ext if isinstance(n, c_ast.Typedef)}
    types = _Types(typedef_nodes, _dim_evaluator, pre.abi)
    constants, skipped, type_macros = _macros(macros, own, frozenset(typedef_nodes))
    check_time(pre.deadline, header, f"evaluating constants, ABI {pre.abi}")
    lines = _SourceLines(header, header_text, type_macros)
    records: dict[str, CRecord] = {}

    def collect(node: c_ast.Node, in_header: bool, depth: int = 0) -> None:
        """Every tagged struct/union definition under node, and own enums."""
        base = types.base(node)
        if isinstance(base, (c_ast.Struct, c_ast.Union)) and base.decls is not None:
            _nested(base, depth)
            if base.name and in_header:
                records[base.name] = _record(base, types, lines)
            for d in base.decls:              # nested tagged definitions are file-scope in C
                collect(d.type, in_header, depth + 1)
        elif isinstance(base, c_ast.Enum) and base.values is not None and \
                os.path.normpath(base.coord.file) in own:
            _enumerators(base, constants, skipped)

    for ext in ast.ext:
        if isinstance(ext, (c_ast.Decl, c_ast.Typedef)):
            collect(ext.type, os.path.normpath(ext.coord.file) == header)

    return ParsedUnit(pre.abi, MappingProxyType(records),
                      MappingProxyType(_typedefs(types, records, own, type_macros, macros)),
                      MappingProxyType(constants), MappingProxyType(skipped))


def _typedefs(types: _Types, records: dict[str, CRecord], own: set[str],
              type_macros: dict[str, str], macros: Mapping[str, Macro]) -> dict[str, TypeAlias]:
    """Own typedefs and type macros, and the typedefs the header's records use."""
    nodes = types.typedefs
    referenced: set[str] = set()

    def note(rec: CRecord) -> None:
        for f in rec.fields:
            todo = [f.spelled.rstrip(" *")]
            while todo:                       # follow typedef chains
                n = todo.pop()
                if n in nodes and n not in referenced:
                    referenced.add(n)
                    todo.append(types.spelled(nodes[n].type)[0].rstrip(" *"))
            if f.record:
                note(f.record)

    for rec in records.values():
        note(rec)
    aliases: dict[str, TypeAlias] = {}
    for name, node in nodes.items():
        file = os.path.normpath(node.coord.file)
        if name in FIXED_WIDTH or (file not in own and name not in referenced):
            continue
        spelled, _ = types.spelled(node.type)
        canonical, dims = types.canonical(node.type)
        aliases[name] = TypeAlias(name, spelled, canonical, dims, file, node.coord.line, "typedef")
    for name, expansion in type_macros.items():
        canonical, dims = fixed_width(expansion, types.abi), ()
        if expansion in nodes and expansion not in FIXED_WIDTH:
            canonical, dims = types.canonical(nodes[expansion].type)
        mac = macros[name]
        aliases[name] = TypeAlias(name, expansion, canonical, dims, mac.file, mac.line, "macro")
    return aliases
