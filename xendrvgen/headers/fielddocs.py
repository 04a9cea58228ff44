"""What a header's comments say about each ring field.

Xen documents a field in three places, all read here:

    /* NB. 'first_sect' and 'last_sect' in blkif_request_segment ... */   (a comment
    struct blkif_request_segment {                                         before a struct)
        /* @first_sect: first sector in frame to transfer (inclusive). */  (an @name: comment)
        blkif_sector_t sector_number;/* start sector idx on disk */        (a trailing comment)

A sentence of a comment before a struct belongs to each field it names
('first_sect' quoted, struct.field, or a bare name with an underscore such
as sector_number), in the structs it names or else in the struct that
follows; a sentence naming no field belongs to the fields of the sentence
before it.  Only the layout is known here, not the fields, so a field a
newer header documents shows up without code changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .doctext import reflow, sentences


@dataclass(frozen=True)
class FieldDoc:
    struct: str
    field: str
    line: int                 # first line of the header that documents it
    text: str                 # its sentences in header order, one paragraph each

    @property
    def key(self) -> str:
        return f"{self.struct}.{self.field}"


_COMMENT = re.compile(r"/\*(.*?)\*/", re.S)
_STRUCT = re.compile(r"\bstruct\s+(\w+)\s*\{")
_FIELD_DECL = re.compile(r"^\s*[A-Za-z_][\w\s]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*(?:,\s*(\w+)\s*)?;")
_AT_FIELD = re.compile(r"^\s*@(\w+):\s*(.*)$", re.S)


def _body(raw: str) -> str:
    """A comment's text without its leading stars."""
    return "\n".join(re.sub(r"^\s*\*+(?!/)", "", ln) for ln in raw.split("\n"))


def _fields_of(block: str) -> list[tuple[str, int]]:
    """(field name, offset in block) of each member declared in a struct body."""
    out = []
    pos = 0
    for ln in block.split("\n"):
        code = _COMMENT.sub(" ", ln)
        m = _FIELD_DECL.match(code)
        if m:
            out.extend((n, pos) for n in (m[1], m[2]) if n)
        pos += len(ln) + 1
    return out


def parse_field_docs(text: str) -> dict[str, FieldDoc]:
    """struct.field -> FieldDoc, for every field some comment documents."""
    structs: dict[str, list[str]] = {}
    spans = []                                   # (start, end of body, struct)
    for m in _STRUCT.finditer(text):
        depth, end = 0, None
        for i in range(m.end() - 1, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        if end is None:
            continue
        structs[m[1]] = [f for f, _ in _fields_of(text[m.end():end])]
        spans.append((m.start(), m.end(), end, m[1]))
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def add(struct: str, field: str, line: int, sentence: str) -> None:
        if field in structs.get(struct, ()):
            found.setdefault((struct, field), []).append((line, sentence))

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    for start, body_start, end, name in spans:
        # the comment right before the struct (only blank lines between)
        before = text[:start].rstrip()
        if before.endswith("*/"):
            open_at = before.rfind("/*")
            comment = _body(before[open_at + 2:-2])
            line = line_of(open_at)
            targets: list[tuple[str, str]] = []
            for s in sentences(comment):
                named = _named_fields(s, structs)
                if named:
                    in_structs = [st for st in structs if re.search(rf"\b{st}\b", s)] or [name]
                    targets = [(st, f) for st in in_structs for f in named if f in structs[st]] or \
                              [(name, f) for f in named]
                for st, f in targets:
                    add(st, f, line, s)
        # comments inside the body: @field: ones, and those trailing a declaration
        body = text[body_start:end]
        for ln_no, ln in enumerate(body.split("\n")):
            line = line_of(body_start) + ln_no
            code = _COMMENT.sub(" ", ln)
            decl = _FIELD_DECL.match(code)
            for c in _COMMENT.finditer(ln):
                words = reflow(_body(c[1]))
                at = _AT_FIELD.match(words)
                if at:
                    add(name, at[1], line, at[2].strip())
                elif decl:
                    for f in (decl[1], decl[2]):
                        if f:
                            add(name, f, line, words)
    return {f"{s}.{f}": FieldDoc(s, f, min(ln for ln, _ in v), "\n\n".join(t for _, t in v if t))
            for (s, f), v in found.items()}


def _named_fields(sentence: str, structs: dict[str, list[str]]) -> list[str]:
    """Field names a sentence mentions: quoted, as struct.field, or a bare
    name with an underscore (nr_sectors; never a plain word like 'id')."""
    names = {f for fields in structs.values() for f in fields}
    out = []
    for f in sorted(names):
        quoted = re.search(rf"['\"`@]{f}['\"`:]|\.{f}\b", sentence)
        bare = "_" in f and re.search(rf"(?<![\w.]){f}\b", sentence)
        if quoted or bare:
            out.append(f)
    return out
