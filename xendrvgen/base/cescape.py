"""Text that reaches C: one function per context, so spec text stays text.

A spec comes from a pull request as often as from a maintainer, and its
descriptions, names and node names end up inside generated C.  Each context
has its own rule:

- comment text (`comment_text`, `comment_line`): never closes or opens a
  comment (`*/`, `/*`), never continues a `//` comment onto the next line (a
  backslash before a line break, also spelled as the trigraph `??/`), never
  carries a character that ends a line or reorders text on screen;
- string literals (`c_string`): quotes, backslashes, `?` (trigraphs) and
  anything outside printable ASCII are escaped, so the literal ends where
  the generator means it to;
- identifiers (`is_identifier`, `identifier_problem`): not escaped but
  checked: a C identifier that is neither a C/C++ keyword nor reserved.
  The spec checks reject a bad name with its file:line; templates only ever
  see names that passed.
"""
from __future__ import annotations

import re

# Characters that end a line for a C compiler (GCC takes a lone CR too) or
# for an editor, and the Unicode controls that reorder how text is shown
# (the "Trojan Source" trick; GCC warns about them with -Wbidi-chars).
LINE_BREAKS = "\r\n\v\f\x85\u2028\u2029"
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f" + BIDI_CONTROLS + "]")
_BREAK = re.compile("\r\n|[" + LINE_BREAKS + "]")
# A backslash (or its trigraph) before blanks or the end: wrapping the text
# may put it at the end of a line, where it would splice the next one on.
_SPLICE = re.compile(r"(\\|\?\?/)(?=\s|\Z)")

C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    alignas alignof bool constexpr false nullptr static_assert thread_local
    true typeof typeof_unqual asm fortran
""".split())
CXX_KEYWORDS = frozenset("""
    and and_eq bitand bitor catch char8_t char16_t char32_t class compl
    concept const_cast consteval constinit co_await co_return co_yield
    decltype delete dynamic_cast explicit export friend mutable namespace new
    noexcept not not_eq operator or or_eq private protected public
    reinterpret_cast requires static_cast template this throw try typeid
    typename using virtual wchar_t xor xor_eq
""".split())
KEYWORDS = C_KEYWORDS | CXX_KEYWORDS
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def control_chars(text: str) -> list[str]:
    """The control and bidirectional-override characters in a text (tab and
    newline are fine), as U+XXXX, for a diagnostic."""
    return sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(text)})


def comment_text(text: str) -> str:
    """Text for the body of a C comment, paragraphs kept as newlines."""
    text = _BREAK.sub("\n", _CONTROL.sub("?", text))
    text = text.replace("*/", "* /").replace("/*", "/ *")
    return _SPLICE.sub(lambda m: "(backslash)" if m.group(1) == "\\" else "?? /", text)


def comment_line(text: str) -> str:
    """Comment text on one line: every line break becomes a space."""
    return comment_text(text).replace("\n", " ")


def c_string(text: str) -> str:
    """A C string literal (with its quotes) whose value is the text's UTF-8."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def identifier_problem(name: str) -> str | None:
    """Why a name cannot be a C identifier in generated code, or None."""
    if not _IDENT.fullmatch(name):
        return "is not a C identifier (a letter or '_', then letters, digits and '_')"
    if name in KEYWORDS:
        return "is a C or C++ keyword"
    if name.startswith("__") or (name.startswith("_") and name[1:2].isupper()):
        return "is reserved for the C implementation (it starts with '__' or '_' and a capital)"
    return None


def is_identifier(name: str) -> bool:
    return identifier_problem(name) is None
