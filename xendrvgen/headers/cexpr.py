"""Values of constant C expressions (macro bodies, enumerators, array sizes).

Macro bodies are expanded with the unit's macro table, wrapped into a
generated C declaration and parsed by pycparser; the value is computed from
its AST with C's integer semantics.  Integers and string literals only.
Expansion is bounded (limits.py): forty macros each naming the previous one
twice would otherwise expand to 2**40 characters.
"""
from __future__ import annotations

import re
from typing import Mapping

from pycparser import c_ast, c_parser

from xendrvgen.base import limits
from .abi import FIXED_WIDTH
from .ctext import Macro

_IDENT = re.compile(r"\b[A-Za-z_]\w*")
# string and char literals are matched so that words inside them are left alone
_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\b[A-Za-z_]\w*')


class NotConstant(Exception):
    """Why an expression has no value here (sizeof, an unknown name, ...)."""


class TooLarge(Exception):
    """An expansion past a limit: .limit names it, .what says how."""

    def __init__(self, limit: str, what: str):
        super().__init__(what)
        self.limit, self.what = limit, what


class Budget:
    """What expanding one unit's macros may still produce, all together."""

    def __init__(self):
        self.chars, self.depth = limits.get("macro-expansion"), limits.get("macro-depth")


def expand(body: str, macros: Mapping[str, Macro], budget: Budget | None = None,
           active: frozenset[str] = frozenset()) -> str:
    """Object-like macros replaced by their bodies, as the preprocessor would;
    raises TooLarge past the budget's limits."""
    budget = budget or Budget()

    def one(m: re.Match) -> str:
        tok = m[0]
        mac = macros.get(tok)
        if mac is None:
            return tok
        if tok in active:
            raise NotConstant(f"macro '{tok}' refers to itself")
        if mac.params is not None:
            raise NotConstant(f"uses function-like macro '{tok}'")
        if len(active) >= budget.depth:
            raise TooLarge("macro-depth", f"names macros nested deeper than {limits.most('macro-depth')}")
        budget.chars -= len(mac.body) + 2      # what this step adds, before its own macros
        if budget.chars < 0:
            raise TooLarge("macro-expansion", "brings the expansions of the header's macros past "
                           f"{limits.most('macro-expansion')}")
        inner = expand(mac.body, macros, budget, active | {tok})
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


def eval_node(node: c_ast.Node) -> int | str:
    """Value of a C constant expression (integers and string literals)."""
    try:
        return _value(node)
    except (ArithmeticError, KeyError, ValueError, RecursionError):
        raise NotConstant("not a constant expression") from None


def _value(node: c_ast.Node) -> int | str:
    if isinstance(node, c_ast.Constant):
        if node.type == "string":
            return _unquote(node.value)
        if node.type == "char":
            s = _unquote(node.value)
            if len(s) != 1:
                raise NotConstant("multi-character constant")
            return ord(s)
        if "float" in node.type or "double" in node.type:
            raise NotConstant("floating-point value")
        return _int_literal(node.value)
    if isinstance(node, c_ast.UnaryOp):
        if node.op in ("sizeof", "&", "*"):
            raise NotConstant(f"uses '{node.op}'")
        v = _value(node.expr)
        if isinstance(v, str):
            raise NotConstant(f"'{node.op}' applied to a string")
        return {"-": -v, "+": v, "~": ~v, "!": int(not v)}[node.op]
    if isinstance(node, c_ast.BinaryOp):
        a, b = _value(node.left), _value(node.right)
        if isinstance(a, str) or isinstance(b, str):
            raise NotConstant("arithmetic on a string")
        if node.op in ("/", "%") and b == 0:
            raise NotConstant("division by zero")
        if node.op in ("<<", ">>") and not 0 <= b < 128:
            raise NotConstant("shift out of range")
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
        return _value(node.iftrue) if _value(node.cond) else _value(node.iffalse)
    if isinstance(node, c_ast.Cast):
        v = _value(node.expr)
        names = getattr(getattr(node.to_type.type, "type", None), "names", [])
        if isinstance(v, int) and len(names) == 1 and names[0] in _WIDTH:
            bits, signed = _WIDTH[names[0]]
            v &= (1 << bits) - 1
            if signed and v >> (bits - 1):
                v -= 1 << bits
        return v
    if isinstance(node, c_ast.ID):
        raise NotConstant(f"'{node.name}' is not a constant")
    raise NotConstant(f"not a constant expression ({type(node).__name__})")


_EXPR_CACHE: dict[tuple[str, frozenset], int | str | NotConstant] = {}


def _eval_safe(node: c_ast.Node) -> int | str | NotConstant:
    try:
        return eval_node(node)
    except NotConstant as e:
        return e


def evaluate_many(exprs: list[str], typedef_names: frozenset[str] = frozenset()
                  ) -> dict[str, int | str | NotConstant]:
    """Values of macro-expanded C expressions (or why each is not a constant).

    All are parsed as one generated translation unit of initialisers; should
    that not parse, each is parsed alone so one bad expression spoils nothing.
    """
    results: dict[str, int | str | NotConstant] = {}
    todo = []
    for expr in dict.fromkeys(exprs):
        # a name in parentheses is a cast only if it is a type: declare those
        key = (expr, frozenset(set(_IDENT.findall(expr)) & (typedef_names | FIXED_WIDTH)))
        if key in _EXPR_CACHE:
            results[expr] = _EXPR_CACHE[key]
        else:
            todo.append((expr, key))

    def source(items) -> str:
        names = sorted(set().union(*(k[1] for _, k in items)))
        return "".join(f"typedef int {n};\n" for n in names) + "".join(
            f"long long __xdg_{i} = ({e});\n" for i, (e, _) in enumerate(items))

    def values(items) -> list:
        ast = c_parser.CParser().parse(source(items), "<expr>")
        return [_eval_safe(d.init) for d in ast.ext if d.name.startswith("__xdg_")]

    if todo:
        try:
            batch = values(todo)
        except (c_parser.ParseError, RecursionError):
            batch = []
            for item in todo:
                try:
                    batch += values([item])
                except c_parser.ParseError:
                    batch.append(NotConstant("not a C expression"))
                except RecursionError:      # pycparser descends recursively
                    batch.append(NotConstant("nests too deeply to be parsed"))
        for (expr, key), value in zip(todo, batch):
            _EXPR_CACHE[key] = results[expr] = value
    return results


def evaluate(expr: str, typedef_names: frozenset[str] = frozenset()) -> int | str:
    """Value of one macro-expanded C expression; raises NotConstant."""
    value = evaluate_many([expr], typedef_names)[expr]
    if isinstance(value, NotConstant):
        raise value
    return value
