"""Names, field order, types and constants of a header, read with pycparser.

Input is one ABI's `gcc -E -dD` output (preprocess.py).  The #define lines
give the constants; the rest, with GNU attributes blanked out (pycparser does
not know them, and layout comes from libclang anyway), gives the records.
"Own" files are the header and its companions: their constants and enums are
kept; records are kept when the header itself declares them, which includes
what DEFINE_RING_TYPES expands to there (blkif_sring ...) but not ring.h's.
"""
from __future__ import annotations

import bisect
import functools
import os
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from pycparser import c_ast, c_generator, c_parser

from ..diagnostics import Mark, error
from .abi import FIXED_WIDTH, anonymous
from .preprocess import Preprocessed


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


# --- the -dD stream: line markers and #define lines ------------------------

_MARKER = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"')
_DEFINE = re.compile(r"^#define (\w+)(\([^)]*\))? ?(.*)$")
_UNDEF = re.compile(r"^#undef (\w+)")


@dataclass
class _Macro:
    name: str
    params: str | None
    body: str
    file: str
    line: int


def _split_directives(text: str) -> tuple[str, dict[str, _Macro]]:
    """Blank the #define/#undef lines (keeping line numbers) and collect the
    final macro table with where each macro was defined."""
    lines = text.split("\n")
    macros: dict[str, _Macro] = {}
    file, line = "", 0
    for i, ln in enumerate(lines):
        if ln.startswith("#"):
            m = _MARKER.match(ln)
            if m:
                file, line = os.path.normpath(m[2].replace('\\"', '"').replace("\\\\", "\\")), int(m[1])
                continue
            m = _DEFINE.match(ln)
            if m:
                macros[m[1]] = _Macro(m[1], m[2], m[3].strip(), file, line)
                lines[i] = ""
            elif _UNDEF.match(ln):
                macros.pop(_UNDEF.match(ln)[1], None)
                lines[i] = ""
        line += 1
    return "\n".join(lines), macros


_GNU_WORDS = re.compile(r"\b(__attribute__|__attribute|__asm__|__asm|__extension__|__inline__|__inline"
                        r"|__restrict__|__restrict|__volatile__|__const__|__signed__)\b")
_GNU_PLAIN = {"__inline__": "inline", "__inline": "inline", "__restrict__": "restrict",
              "__restrict": "restrict", "__volatile__": "volatile", "__const__": "const",
              "__signed__": "signed", "__extension__": ""}


def _strip_gnu(text: str) -> str:
    """GNU C that pycparser cannot read: attributes and asm labels are blanked
    (same length, so columns stay right), keyword spellings normalised."""
    out, pos = [], 0
    for m in _GNU_WORDS.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos:m.start()])
        word = m[1]
        if word in _GNU_PLAIN:
            out.append(_GNU_PLAIN[word].ljust(len(word)))
            pos = m.end()
            continue
        # __attribute__((...)) / __asm__("..."): skip the balanced parentheses
        j, depth = m.end(), 0
        while j < len(text):
            c = text[j]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    j += 1
                    break
            elif not c.isspace() and depth == 0:
                break
            j += 1
        out.append(re.sub(r"[^\n]", " ", text[m.start():j]))
        pos = j
    out.append(text[pos:])
    return "".join(out)


_SCAN = re.compile(r'^#[^\n]*|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[{}();]', re.M)
_FIRST_TOKEN = re.compile(r"(?m)^(?!#)[^\S\n]*\S|(?<=\S)")  # first char of code, not of a marker line
_NO_MARKERS = re.compile(r"(?m)^#.*$")
_IDENT = re.compile(r"\b[A-Za-z_]\w*")
_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float
    for goto if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Bool _Complex _Static_assert""".split())


def _prune(code: str, own: set[str]) -> str:
    """Blank the top-level declarations pycparser need not see.

    Kept: everything from the own files, and the typedefs from elsewhere that
    they need, transitively (pycparser must know typedef names to parse).
    This spares parsing all of xen.h for a few names.  The result holds only
    the kept declarations, each after a line marker giving its original file
    and line (and padded to its column), so coordinates do not change.
    """
    spans = []                         # (start, end, file, is_typedef) per declaration
    markers = [(0, 0, "")]             # (position after marker line, line there, file as written)
    file = chunk_file = ""
    depth, start, fn_body, prev = 0, 0, False, ""
    for m in _SCAN.finditer(code):
        tok = m[0]
        if tok[0] == "#":
            mk = _MARKER.match(tok)
            if mk:
                file = os.path.normpath(mk[2])
                markers.append((m.end() + 1, int(mk[1]), mk[2]))
            continue
        if tok[0] in "\"'":
            prev = tok
            continue
        if depth == 0 and tok != "}":
            chunk_file = chunk_file or file    # file of the first token of the chunk
        if tok == "{":
            if depth == 0:
                fn_body = prev == ")"
            depth += 1
        elif tok == "}":
            depth -= 1
        end = (tok == ";" and depth == 0) or (tok == "}" and depth == 0 and fn_body)
        if end:
            typedef = _NO_MARKERS.sub("", code[start:m.end()]).lstrip().startswith("typedef")
            spans.append((start, m.end(), chunk_file, typedef))
            start, chunk_file, fn_body = m.end(), "", False
        prev = tok

    keep = [f in own for _, _, f, _ in spans]
    needed: set[str] = set()
    for (s, e, _, _), kept in zip(spans, keep):
        if kept:
            needed.update(_IDENT.findall(code, s, e))
    declared = {}                      # candidate typedef -> names it declares
    for i, (s, e, _, typedef) in enumerate(spans):
        if typedef and not keep[i]:
            outer = _NO_MARKERS.sub("", code[s:e])
            while True:                # identifiers outside its braces
                inner = re.sub(r"\{[^{}]*\}", " ", outer)
                if inner == outer:
                    break
                outer = inner
            declared[i] = set(_IDENT.findall(outer)) - _KEYWORDS
    changed = True
    while changed:
        changed = False
        for i, names in list(declared.items()):
            if names & needed:
                keep[i], changed = True, True
                needed.update(_IDENT.findall(code, spans[i][0], spans[i][1]))
                del declared[i]

    out = []
    ends = [p for p, _, _ in markers]
    for (s, e, _, _), kept in zip(spans, keep):
        if kept:
            s = _FIRST_TOKEN.search(code, s, e).start()    # skip blank lines and markers
            pos, line, name = markers[bisect.bisect_right(ends, s) - 1]
            column = s - (code.rfind("\n", 0, s) + 1)
            out.append(f'# {line + code.count(chr(10), pos, s)} "{name}"\n{" " * column}{code[s:e]}\n')
    return "".join(out)


def _parse_error(exc: Exception, fallback: str):
    msg = str(exc)
    m = re.match(r"^(.*?):(\d+):(\d+): (.*)$", msg)
    if m:
        return error(f"C syntax error: {m[4]}", Mark(os.path.normpath(m[1]), int(m[2]), int(m[3])))
    return error(f"C syntax error: {msg}", Mark(fallback))


# --- constant expressions: pycparser AST of a generated declaration --------

# string and char literals are matched so that words inside them are left alone
_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\b[A-Za-z_]\w*')
_C_TYPE_WORDS = {"char", "short", "int", "long", "signed", "unsigned", "float", "double",
                 "void", "_Bool", "struct", "union", "enum", "const", "volatile"}


class _NotConstant(Exception):
    pass


def _expand(body: str, macros: dict[str, _Macro], active: frozenset[str] = frozenset()) -> str:
    """Object-like macros replaced by their bodies, as the preprocessor would."""
    def one(m: re.Match) -> str:
        tok = m[0]
        mac = macros.get(tok)
        if mac is None:
            return tok
        if tok in active:
            raise _NotConstant(f"macro '{tok}' refers to itself")
        if mac.params is not None:
            raise _NotConstant(f"uses function-like macro '{tok}'")
        inner = _expand(mac.body, macros, active | {tok})
        # a bare string literal stays bare so "a" MACRO still concatenates
        return inner if re.fullmatch(r'(\s*"(?:[^"\\]|\\.)*")+\s*', inner) else f"({inner})"
    return _WORD.sub(one, body)


def _int_literal(text: str) -> int:
    t = text.rstrip("uUlL")
    if t.lower().startswith("0x"):
        return int(t, 16)
    if t.lower().startswith("0b"):
        return int(t, 2)
    if len(t) > 1 and t.startswith("0"):
        return int(t, 8)
    return int(t)


def _unquote(lit: str) -> str:
    return bytes(lit[1:-1], "utf-8").decode("unicode_escape")


_WIDTH = {f"{s}int{n}_t": (n, s == "") for s in ("", "u") for n in (8, 16, 32, 64)}


def _eval(node: c_ast.Node) -> int | str:
    """Value of a C constant expression (integers and string literals)."""
    if isinstance(node, c_ast.Constant):
        if node.type == "string":
            return _unquote(node.value)
        if node.type == "char":
            s = _unquote(node.value)
            if len(s) != 1:
                raise _NotConstant("multi-character constant")
            return ord(s)
        if "float" in node.type or "double" in node.type:
            raise _NotConstant("floating-point value")
        return _int_literal(node.value)
    if isinstance(node, c_ast.UnaryOp):
        if node.op in ("sizeof", "&", "*"):
            raise _NotConstant(f"uses '{node.op}'")
        v = _eval(node.expr)
        if isinstance(v, str):
            raise _NotConstant(f"'{node.op}' applied to a string")
        return {"-": -v, "+": v, "~": ~v, "!": int(not v)}[node.op]
    if isinstance(node, c_ast.BinaryOp):
        a, b = _eval(node.left), _eval(node.right)
        if isinstance(a, str) or isinstance(b, str):
            raise _NotConstant("arithmetic on a string")
        if node.op in ("/", "%") and b == 0:
            raise _NotConstant("division by zero")
        ops = {
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "/": lambda: abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1),  # C truncates
            "%": lambda: a - b * (abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)),
            "<<": lambda: a << b, ">>": lambda: a >> b, "&": lambda: a & b, "|": lambda: a | b,
            "^": lambda: a ^ b, "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b)),
            "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
            ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        }
        return ops[node.op]()
    if isinstance(node, c_ast.TernaryOp):
        return _eval(node.iftrue) if _eval(node.cond) else _eval(node.iffalse)
    if isinstance(node, c_ast.Cast):
        v = _eval(node.expr)
        names = getattr(getattr(node.to_type.type, "type", None), "names", [])
        if isinstance(v, int) and len(names) == 1 and names[0] in _WIDTH:
            bits, signed = _WIDTH[names[0]]
            v &= (1 << bits) - 1
            if signed and v >> (bits - 1):
                v -= 1 << bits
        return v
    if isinstance(node, c_ast.ID):
        raise _NotConstant(f"'{node.name}' is not a constant")
    raise _NotConstant(f"not a constant expression ({type(node).__name__})")


_EXPR_CACHE: dict[str, int | str | _NotConstant] = {}


def evaluate(expr: str, typedef_names: frozenset[str] = frozenset()) -> int | str:
    """Evaluate an already macro-expanded C expression; raises _NotConstant."""
    words = set(re.findall(r"[A-Za-z_]\w*", expr))
    # casts need their type names declared for the parser to see a cast
    decls = "".join(f"typedef int {n};\n" for n in sorted(words & (typedef_names | FIXED_WIDTH)))
    source = f"{decls}long long __xdg_value = ({expr});\n"
    if source in _EXPR_CACHE:
        hit = _EXPR_CACHE[source]
        if isinstance(hit, _NotConstant):
            raise hit
        return hit
    try:
        ast = c_parser.CParser().parse(source, "<expr>")
        result: int | str | _NotConstant = _eval(ast.ext[-1].init)
    except c_parser.ParseError:
        result = _NotConstant("not a C expression")
    except _NotConstant as e:
        result = e
    _EXPR_CACHE[source] = result
    if isinstance(result, _NotConstant):
        raise result
    return result


# --- records and types -----------------------------------------------------

class _Types:
    """Spelled and canonical forms of pycparser types, given the typedefs."""

    def __init__(self, typedefs: dict[str, c_ast.Typedef], eval_dim):
        self.typedefs = typedefs
        self.eval_dim = eval_dim

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
            inner, inner_dims = self.canonical(self.typedefs[name].type, seen | {name})
            if ptr:
                return inner + " *" * ptr, dims
            return inner, dims + inner_dims
        return name + " *" * ptr, dims


def _record(node: c_ast.Struct | c_ast.Union, types: _Types, lines: "_SourceLines") -> CRecord:
    kind = "struct" if isinstance(node, c_ast.Struct) else "union"
    fields = []
    for decl in node.decls or ():
        t = decl.type
        base = types.base(t)
        inline = _record(base, types, lines) if isinstance(base, (c_ast.Struct, c_ast.Union)) \
            and base.decls is not None else None
        spelled, dims = types.spelled(t)
        canonical, cdims = types.canonical(t)
        spelled = lines.macro_spelling(decl, spelled)
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

def _is_type(body: str, typedef_names: set[str]) -> bool:
    words = body.replace("*", " ").split()
    if not words or not re.fullmatch(r"[\w\s*]+", body):
        return False
    if words[0] in ("struct", "union", "enum"):
        return len(words) == 2
    return all(w in _C_TYPE_WORDS or w in typedef_names or w in FIXED_WIDTH for w in words)


def parse_unit(pre: Preprocessed, header_text: str | None = None) -> ParsedUnit:
    """Records, typedefs and constants of one ABI's preprocessed header.

    header_text (the header's source) lets fields keep type-macro spellings.
    """
    header = os.path.normpath(pre.header)
    own = {header, *map(os.path.normpath, pre.companions)}
    code, macros = _split_directives(pre.text)
    try:
        ast = _parse_c(_prune(_strip_gnu(code), own), header)
    except c_parser.ParseError as e:
        raise _parse_error(e, header) from None

    typedef_nodes = {n.name: n for n in ast.ext if isinstance(n, c_ast.Typedef)}
    typedef_names = frozenset(typedef_nodes)

    def eval_dim(node: c_ast.Node) -> int:
        try:
            v = _eval(node)
        except _NotConstant as e:
            raise error(f"array size is not a constant: {e}", Mark(node.coord.file, node.coord.line,
                                                                    node.coord.column)) from None
        if not isinstance(v, int):
            raise error("array size is a string", Mark(node.coord.file, node.coord.line))
        return v

    types = _Types(typedef_nodes, eval_dim)

    # constants, and the macros that stand for types
    constants: dict[str, Constant] = {}
    skipped: dict[str, SkippedMacro] = {}
    type_macros: dict[str, str] = {}
    for mac in macros.values():
        if mac.file not in own:
            continue
        why = None
        if mac.params is not None:
            why = "function-like macro"
        elif not mac.body:
            why = "empty definition"
        elif _is_type(mac.body, set(typedef_names)):
            type_macros[mac.name] = " ".join(mac.body.split())
            continue
        else:
            try:
                value = evaluate(_expand(mac.body, macros), typedef_names)
                constants[mac.name] = Constant(mac.name, value, mac.body, mac.file, mac.line)
                continue
            except _NotConstant as e:
                why = str(e)
        skipped[mac.name] = SkippedMacro(mac.name, mac.body, mac.file, mac.line, why)

    lines = _SourceLines(header, header_text, type_macros)
    records: dict[str, CRecord] = {}
    referenced: set[str] = set()

    def collect(node: c_ast.Node | None, in_header: bool) -> None:
        """Register every tagged struct/union definition under node."""
        base = types.base(node)
        if isinstance(base, (c_ast.Struct, c_ast.Union)) and base.decls is not None:
            if base.name and in_header:
                records[base.name] = _record(base, types, lines)
            for d in base.decls:
                collect(d.type, in_header)
        elif isinstance(base, c_ast.Enum) and base.values is not None and \
                os.path.normpath(base.coord.file) in own:
            value = -1
            for en in base.values.enumerators:
                text = ""
                if en.value is not None:
                    text = c_generator.CGenerator().visit(en.value)
                    try:
                        value = _eval(en.value)
                    except _NotConstant as e:
                        skipped[en.name] = SkippedMacro(en.name, text, os.path.normpath(en.coord.file),
                                                        en.coord.line, str(e))
                        continue
                else:
                    value += 1
                constants[en.name] = Constant(en.name, value, text, os.path.normpath(en.coord.file),
                                              en.coord.line, kind="enum")

    for ext in ast.ext:
        if isinstance(ext, (c_ast.Decl, c_ast.Typedef)):
            collect(ext.type, os.path.normpath(ext.coord.file) == header)

    # which typedef names the header's records use, transitively
    def note_refs(rec: CRecord) -> None:
        for f in rec.fields:
            base = f.spelled.rstrip(" *")
            pending = [base]
            while pending:
                n = pending.pop()
                if n in typedef_nodes and n not in referenced:
                    referenced.add(n)
                    pending.append(types.spelled(typedef_nodes[n].type)[0].rstrip(" *"))
            if f.record:
                note_refs(f.record)

    for rec in records.values():
        note_refs(rec)

    typedefs: dict[str, TypeAlias] = {}
    for name, node in typedef_nodes.items():
        file = os.path.normpath(node.coord.file)
        if name in FIXED_WIDTH or (file not in own and name not in referenced):
            continue
        spelled, dims = types.spelled(node.type)
        canonical, cdims = types.canonical(node.type)
        typedefs[name] = TypeAlias(name, spelled, canonical, cdims, file, node.coord.line, "typedef")
    for name, expansion in type_macros.items():
        mac = macros[name]
        canonical, cdims = expansion, ()
        if expansion in typedef_nodes and expansion not in FIXED_WIDTH:
            canonical, cdims = types.canonical(typedef_nodes[expansion].type)
        typedefs[name] = TypeAlias(name, expansion, canonical, cdims, mac.file, mac.line, "macro")

    return ParsedUnit(pre.abi, MappingProxyType(records), MappingProxyType(typedefs),
                      MappingProxyType(constants), MappingProxyType(skipped))

