"""Reading declarations with libclang: the arguments an OS's kernel build
would give, a parse of one header, and its declarations in a comparable
normal form (types canonical, macros expanded, anonymous types unplaced)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .records import ContractError, Decl


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
def _cindex():
    try:
        import clang.cindex as ci
    except ImportError:
        raise ContractError("libclang is not installed (install it with: pip install libclang)") from None
    return ci


def _system_includes(man: dict) -> list[Path]:
    if man["os"] in ("freebsd", "netbsd") or man.get("toolchain") == "zig":
        from xendrvgen.compile import _zig
        try:
            return _zig.system_includes(man["target"].replace("x86_64-", "x86_64-", 1))
        except Exception as exc:  # ToolchainMissing
            raise ContractError(str(exc)) from None
    return []


def _args(man: dict, includes: list[Path], after: list[Path] = (), extra: list[str] = ()) -> list[str]:
    target = {"x86_64-freebsd": "x86_64-unknown-freebsd14.0",
              "x86_64-netbsd": "x86_64-unknown-netbsd10.0"}.get(man["target"], man.get("clang_target", man["target"]))
    args = ["-x", "c", "-std=gnu11", f"--target={target}", "-nostdinc", "-ffreestanding",
            *man.get("flags", []), *[f"-D{d}" for d in man.get("defines", [])], *extra]
    for d in includes:
        args += ["-I", str(d)]
    for d in _system_includes(man):
        args += ["-isystem", str(d)]
    for d in after:
        args += ["-idirafter", str(d)]
    return args


def _norm(text: str) -> str:
    return " ".join(text.split())


# An anonymous struct or union type is spelled with the place that declares it
# ("struct s::(unnamed at /path/x.h:29:2)"), which differs between the contract
# and the tree even when the types agree; compare it without the place.
_UNNAMED = __import__("re").compile(r"\((unnamed|anonymous)( struct| union)? at [^)]*\)")


# A backslash-newline that libclang leaves in a token's spelling.
_SPLICE = __import__("re").compile(r"\\[ \t]*\r?\n")


def _ctype(t) -> str:
    return _UNNAMED.sub(r"(\1\2)", _norm(t.get_canonical().spelling))


_INT = __import__("re").compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*$")


def _function_like(c) -> bool:
    toks = list(c.get_tokens())
    return (len(toks) > 1 and toks[1].spelling == "("
            and toks[1].extent.start.offset == toks[0].extent.end.offset)


def _macro_table(tu) -> dict:
    """Object-like macros of the whole translation unit: name -> tokens."""
    K = _cindex().CursorKind
    table = {}
    for c in tu.cursor.get_children():
        if c.kind == K.MACRO_DEFINITION and not _function_like(c):
            table[c.spelling] = [_SPLICE.sub("", t.spelling) for t in c.get_tokens()][1:]
    return table


def _expand(tokens: list, table: dict, depth: int = 0, seen: frozenset = frozenset()) -> str:
    """Expand object-like macros and normalise integer literals, so that two
    spellings of one value (SIZE_4KB and 0x1000) compare equal."""
    out = []
    for t in tokens:
        if t in table and t not in seen and depth < 16:
            out.append(_expand(table[t], table, depth + 1, seen | {t}))
        elif _INT.match(t):
            lit = t.rstrip("uUlL")
            out.append(str(int(lit, 16) if lit[:2] in ("0x", "0X") else int(lit, 8) if lit.startswith("0") and lit != "0" else int(lit)))
        else:
            out.append(t)
    return _norm(" ".join(out))


def _collect(tu, keep) -> dict[str, Decl]:
    """Declarations (and macro definitions) whose file satisfies keep(path)."""
    ci = _cindex()
    K = ci.CursorKind
    out: dict[str, Decl] = {}
    anon_typedefs = {}
    table = _macro_table(tu)

    def where(c) -> str:
        loc = c.location
        return f"{loc.file.name}:{loc.line}" if loc.file else "?"

    def add(d: Decl):
        old = out.get(d.name)
        # A definition wins over a forward declaration.
        if old is None or (old.kind in ("struct", "union") and not old.value and d.value) or old.kind == d.kind == "function":
            out[d.name] = d

    for c in tu.cursor.get_children():
        f = c.location.file
        if f is None or not keep(f.name):
            continue
        k = c.kind
        if k == K.MACRO_DEFINITION:
            # Comments inside a macro body are not part of its replacement text.
            # libclang may spell a token with the line continuation before it
            # ("\\\n}"); the continuation is not part of the token.
            toks = [_SPLICE.sub("", t.spelling) for t in c.get_tokens()
                    if t.kind.name != "COMMENT"][1:]
            if _function_like(c):
                value = _norm(" ".join(toks))
            else:
                value = _expand(toks, table, 0, frozenset({c.spelling}))
            add(Decl(c.spelling, "macro", value, where(c)))
        elif k == K.FUNCTION_DECL:
            t = c.type
            params = [_ctype(a) for a in t.argument_types()] if t.kind.name == "FUNCTIONPROTO" else []
            var = t.is_function_variadic() if t.kind.name == "FUNCTIONPROTO" else False
            sig = f"{_ctype(t.get_result())} ({', '.join(params + (['...'] if var else []))})"
            add(Decl(c.spelling, "function", sig, where(c)))
        elif k in (K.STRUCT_DECL, K.UNION_DECL):
            kind = "struct" if k == K.STRUCT_DECL else "union"
            members = [(m.spelling, _ctype(m.type)) for m in c.get_children() if m.kind == K.FIELD_DECL]
            name = c.spelling
            if not name or c.is_anonymous():
                anon_typedefs[c.hash] = (kind, members, where(c))
                continue
            name = name.replace("struct ", "").replace("union ", "")
            add(Decl(name, kind, members if c.is_definition() else [], where(c)))
        elif k == K.ENUM_DECL:
            for e in c.get_children():
                if e.kind == K.ENUM_CONSTANT_DECL:
                    add(Decl(e.spelling, "enumerator", e.enum_value, where(e)))
        elif k == K.TYPEDEF_DECL:
            under = c.underlying_typedef_type
            decl = under.get_canonical().get_declaration()
            if decl is not None and decl.hash in anon_typedefs:
                kind, members, w = anon_typedefs[decl.hash]
                add(Decl(c.spelling, kind, members, w))
            add(Decl(c.spelling, "typedef", _ctype(under), where(c)))
        elif k == K.VAR_DECL:
            add(Decl(c.spelling, "var", _ctype(c.type), where(c)))
    return out


def _parse(path: Path, man: dict, includes: list[Path], prelude: list[str], after: list[Path] = (),
           extra: list[str] = ()):
    ci = _cindex()
    src = "".join(f"#include <{p}>\n" for p in prelude) + f'#include "{path}"\n'
    with tempfile.TemporaryDirectory() as td:
        main = Path(td) / "contract_probe.c"
        main.write_text(src)
        idx = ci.Index.create()
        opts = ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD | ci.TranslationUnit.PARSE_INCOMPLETE
        try:
            return idx.parse(str(main), args=_args(man, includes, after, extra), options=opts)
        except ci.TranslationUnitLoadError as exc:
            raise ContractError(f"{path}: libclang could not parse it: {exc}") from None


# A typedef of a (pointer to a) named struct or union: its tag.
_TAGGED = __import__("re").compile(r"^(?:struct|union) (\w+)(?: \*)*$")


def _typedef_tags(tu, out: dict) -> None:
    """typedef name -> the struct/union tag it names, over the whole translation unit."""
    K = _cindex().CursorKind
    for c in tu.cursor.get_children():
        if c.kind == K.TYPEDEF_DECL:
            m = _TAGGED.match(_ctype(c.underlying_typedef_type))
            if m:
                out.setdefault(c.spelling, m.group(1))
