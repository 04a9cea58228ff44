"""gcc's `-E -dD` output made ready for pycparser.

gcc's output for one ABI is the header and everything it includes (most of
it xen.h) with every #define kept in place.  It is cut at its line markers
into per-file segments:

- segments of the own files (the header and its companions) are kept whole;
  their #define/#undef lines become the macro table, with file and line;
- from other files only the typedefs that the kept code needs, transitively,
  are kept (pycparser must know typedef names to parse), and their macros
  are looked up only when an own macro refers to one.

So pycparser reads a few kilobytes instead of all of xen.h.  Every kept piece
follows a line marker giving its original file and line, padded to its
column, so pycparser's coordinates are those of the real files.
"""
from __future__ import annotations

import bisect
import functools
import os
import re
from dataclasses import dataclass
from typing import Iterator, Mapping

_MARKER = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"[^\n]*\n?', re.M)   # # LINE "FILE" FLAGS
_MACRO = re.compile(r"^#define (\w+)(\([^)]*\))? ?(.*)$|^#undef (\w+).*$", re.M)
_TYPEDEF = re.compile(r"\btypedef\b")
_BRACE_OR_SEMI = re.compile(r"[{};]")
_BRACED = re.compile(r"\{[^{}]*\}")
_DECLARATOR = re.compile(r"\b([A-Za-z_]\w*)\s*(?=[;,\[)])")   # the name ending a declarator
_IDENT = re.compile(r"\b[A-Za-z_]\w*")
_KEYWORDS = frozenset("""auto char const double enum extern float inline int long register restrict
    short signed static struct typedef union unsigned void volatile _Bool _Complex""".split())


@functools.lru_cache(maxsize=256)
def marker_path(raw: str) -> str:
    """The normalised path a line marker names (as written, escapes undone)."""
    return os.path.normpath(raw.replace('\\"', '"').replace("\\\\", "\\"))


@dataclass
class Macro:
    name: str
    params: str | None             # "(a, b)" for function-like macros
    body: str
    file: str
    line: int


class Macros(Mapping[str, Macro]):
    """The unit's final macro table: the own files' macros, with any other
    file's macro found in the text when first asked for."""

    def __init__(self, own: dict[str, Macro], text: str):
        self.own, self.text, self.others = own, text, None

    def __getitem__(self, name: str) -> Macro:
        if name in self.own:
            return self.own[name]
        if self.others is None:            # one pass when first needed: the last #define/#undef wins
            self.others = {}
            for m in _MACRO.finditer(self.text):
                self.others[m[1] or m[4]] = Macro(m[1], m[2], m[3].strip(), "", 0) if m[1] else None
        found = self.others.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.own)          # iteration: the own macros only

    def __len__(self) -> int:
        return len(self.own)


@dataclass
class _Segment:
    start: int                     # text between two line markers
    end: int
    file: str                      # normalised
    raw: str                       # as the marker spells it
    line: int                      # line number at `start`


def _segments(text: str) -> list[_Segment]:
    segs, prev = [], None
    for m in _MARKER.finditer(text):
        if prev is not None:
            prev.end = m.start()
        prev = _Segment(m.end(), len(text), marker_path(m[2]), m[2], int(m[1]))
        segs.append(prev)
    return segs


def _own_macros(text: str, seg: _Segment, macros: dict[str, Macro]) -> None:
    line, pos = seg.line, seg.start
    for m in _MACRO.finditer(text, seg.start, seg.end):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        if m[1]:
            macros[m[1]] = Macro(m[1], m[2], m[3].strip(), seg.file, line)
        else:
            macros.pop(m[4], None)


def _typedefs(text: str, seg: _Segment) -> Iterator[tuple[int, int]]:
    """(start, end) of each typedef declaration in a segment."""
    pos = seg.start
    while (m := _TYPEDEF.search(text, pos, seg.end)) is not None:
        depth, end = 0, None
        for b in _BRACE_OR_SEMI.finditer(text, m.start(), seg.end):
            if b[0] == "{":
                depth += 1
            elif b[0] == "}":
                depth -= 1
            elif depth == 0:
                end = b.end()
                break
        if end is None:
            return
        yield m.start(), end
        pos = end


def _declared(decl: str) -> set[str]:
    """Names a typedef declares: declarator names outside its braces."""
    while "{" in decl:
        inner = _BRACED.sub(" ", decl)
        if inner == decl:
            break
        decl = inner
    return set(_DECLARATOR.findall(decl)) - _KEYWORDS


def _piece(text: str, seg: _Segment, start: int, end: int, newlines: list[int]) -> str:
    """text[start:end] after a line marker that puts it where it was
    (newlines: where the text's are, to count them in log time)."""
    line = seg.line + bisect.bisect_left(newlines, start) - bisect.bisect_left(newlines, seg.start)
    column = start - max(text.rfind("\n", 0, start) + 1, seg.start)
    return f'# {line} "{seg.raw}"\n{" " * column}{text[start:end]}\n'


def prepare(text: str, own: set[str]) -> tuple[str, Macros]:
    """(the C text pycparser needs, the macro table) of one ABI's `gcc -E -dD` output."""
    segs = _segments(text)
    own_macros: dict[str, Macro] = {}
    pieces: list[tuple[int, str]] = []            # (position in text, piece)
    needed: set[str] = set()
    candidates = []                               # (seg, start, end, names it declares)
    for seg in segs:
        if seg.file in own:
            _own_macros(text, seg, own_macros)
            # trailing blank lines (#if branches not taken) would only make
            # ABIs' texts differ for nothing: the next piece has its own marker
            body = _MACRO.sub("", text[seg.start:seg.end]).rstrip()
            if body:
                pieces.append((seg.start, f'# {seg.line} "{seg.raw}"\n{body}\n'))
            needed.update(_IDENT.findall(body))
        else:
            candidates.extend((seg, start, end, _declared(text[start:end]))
                              for start, end in _typedefs(text, seg))
    declaring: dict[str, list[int]] = {}          # name -> candidates declaring it
    for i, (_, _, _, names) in enumerate(candidates):
        for name in names:
            declaring.setdefault(name, []).append(i)
    todo, kept = list(needed), set()
    newlines = [m.start() for m in re.finditer("\n", text)] if candidates else []
    while todo:                                   # keep the typedefs needed, transitively
        for i in declaring.get(todo.pop(), ()):
            if i not in kept:
                kept.add(i)
                seg, start, end, _ = candidates[i]
                pieces.append((start, _piece(text, seg, start, end, newlines)))
                new = set(_IDENT.findall(text, start, end)) - needed
                needed |= new
                todo.extend(new)
    code = "".join(p for _, p in sorted(pieces, key=lambda p: p[0]))
    return strip_gnu(code), Macros(own_macros, text)


_GNU_WORDS = re.compile(r"\b(__attribute__|__attribute|__asm__|__asm|__extension__|__inline__|__inline"
                        r"|__restrict__|__restrict|__volatile__|__const__|__signed__)\b")
_GNU_PLAIN = {"__inline__": "inline", "__inline": "inline", "__restrict__": "restrict",
              "__restrict": "restrict", "__volatile__": "volatile", "__const__": "const",
              "__signed__": "signed", "__extension__": ""}


def strip_gnu(text: str) -> str:
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
