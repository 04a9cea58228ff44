"""The XenStore node documentation block in a header's comments.

Xen's blkif.h documents every node in one comment, in a fixed layout:

    *                            Backend XenBus Nodes           (a side)
    *------------------ Features ------------------              (a section)
    * feature-barrier                                            (a node)
    *      Values:         0/1 (boolean)
    *      Default Value:  0                                     (any case)
    *      Notes:          DEPRECATED, 2, 3
    *
    *      Free text ...
    * Notes
    * -----
    * (1) Multi-page ring buffer scheme ...                      (numbered notes)

Only the layout is known here, not the nodes, so a new node in a newer
header shows up without code changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class NodeDoc:
    name: str                 # "max-ring-pages", "ring-ref%u"
    side: str                 # "backend" | "frontend"
    section: str              # "Request Transport Parameters", "Backend Device Identification (PRIVATE)"
    private: bool             # the section is marked (PRIVATE)
    values: str               # the Values: text
    default: str | None       # the Default Value: text
    maximum: str | None       # the Maximum Value: text
    notes: tuple[int, ...]    # numbered notes it refers to
    deprecated: bool          # DEPRECATED among its notes
    line: int                 # line of the node name in the header
    text: str                 # the free text, paragraphs joined with blank lines


@dataclass(frozen=True)
class Note:
    number: int
    line: int
    text: str


@dataclass(frozen=True)
class NodeDocs:
    nodes: tuple[NodeDoc, ...]
    notes: Mapping[int, Note]
    line: int                 # where the block starts

    def find(self, name: str, side: str | None = None) -> NodeDoc | None:
        return next((n for n in self.nodes if n.name == name and side in (None, n.side)), None)

    def node_names(self, side: str | None = None) -> list[str]:
        return [n.name for n in self.nodes if side in (None, n.side)]


_SIDE = re.compile(r"^\s*(\w+) XenBus Nodes\s*$", re.I)
_SECTION = re.compile(r"^-{3,}\s*(.+?)\s*-{3,}$")
_NODE = re.compile(r"^ {1,2}([A-Za-z0-9][\w%./<>-]*)\s*$")
_ATTR = re.compile(r"^\s+(Values|Default value|Maximum value|Notes):\s*(.*?)\s*$", re.I)
_NOTES_TITLE = re.compile(r"^\s*Notes\s*$")
_NOTE_ITEM = re.compile(r"^\s*\((\d+)\)\s*(.*)$")


def _comment_lines(text: str) -> list[tuple[int, str | None]]:
    """(line number, comment body or None for lines outside comments)."""
    out, inside = [], False
    for no, raw in enumerate(text.split("\n"), 1):
        body = None
        if not inside and "/*" in raw:
            inside, raw = True, raw[raw.index("/*") + 2:]
        if inside:
            end = raw.find("*/")
            if end >= 0:
                raw, inside = raw[:end], False
            body = re.sub(r"^\s*\*(?!/)", "", raw.rstrip())
        out.append((no, body))
    return out


def parse_node_docs(text: str) -> NodeDocs | None:
    """The node documentation of a header's text; None if it has none."""
    lines = _comment_lines(text)
    start = next((i for i, (_, b) in enumerate(lines) if b is not None and _SIDE.match(b)), None)
    if start is None:
        return None

    nodes: list[NodeDoc] = []
    notes: dict[int, Note] = {}
    side = section = ""
    cur: dict | None = None       # the node being read
    note: list | None = None      # [number, line, text lines] of the note being read
    in_notes = False

    def flush() -> None:
        nonlocal cur
        if cur is not None:
            words = [w.strip() for w in re.split(r"[,\s]+", cur["notes"]) if w.strip()]
            paras = "\n".join(cur["text"]).strip()
            nodes.append(NodeDoc(
                name=cur["name"], side=side, section=section, private="(PRIVATE)" in section.upper(),
                values=cur["values"], default=cur["default"], maximum=cur["maximum"],
                notes=tuple(int(w) for w in words if w.isdigit()),
                deprecated=any(w.upper() == "DEPRECATED" for w in words),
                line=cur["line"], text=re.sub(r"\n[ \t]*\n\s*", "\n\n", paras)))
            cur = None

    def flush_note() -> None:
        nonlocal note
        if note is not None:
            notes[note[0]] = Note(note[0], note[1], " ".join(note[2]).strip())
            note = None

    for i in range(start, len(lines)):
        no, body = lines[i]
        if body is None:              # the block is one comment: it ends with it
            break
        stripped = body.strip()
        if in_notes:
            m = _NOTE_ITEM.match(body)
            if m:
                flush_note()
                note = [int(m[1]), no, [m[2]]]
            elif note is not None and stripped:
                note[2].append(stripped)
            continue
        if m := _SIDE.match(body):
            flush()
            side, section = m[1].lower(), ""
        elif set(stripped) <= {"*"} and stripped:
            continue                  # a rule of stars around a side title
        elif m := _SECTION.match(stripped):
            flush()
            section = m[1]
        elif _NOTES_TITLE.match(body) and i + 1 < len(lines) and \
                (lines[i + 1][1] or "").strip().startswith("---"):
            flush()
            in_notes = True
        elif (m := _NODE.match(body)) and side and _next_is_attr(lines, i):
            flush()
            cur = {"name": m[1], "line": no, "values": "", "default": None, "maximum": None,
                   "notes": "", "text": [], "last": None, "column": 0}
        elif cur is not None and (m := _ATTR.match(body)) and not cur["text"]:
            key = {"values": "values", "default value": "default", "maximum value": "maximum",
                   "notes": "notes"}[m[1].lower()]
            cur[key], cur["last"], cur["column"] = m[2], key, m.start(2)
        elif cur is not None:
            if cur["text"] or not stripped:
                cur["text"].append(stripped)
            elif cur["last"] and len(body) - len(body.lstrip()) >= cur["column"]:
                # an attribute value continued on the next line, under its start
                cur[cur["last"]] = f"{cur[cur['last']]} {stripped}".strip()
            else:
                cur["text"].append(stripped)
            if not stripped:
                cur["last"] = None
    flush()
    flush_note()
    return NodeDocs(tuple(nodes), MappingProxyType(dict(sorted(notes.items()))), lines[start][0])


def _next_is_attr(lines: list[tuple[int, str | None]], i: int) -> bool:
    """A node name line is followed directly by its Values: line."""
    nxt = lines[i + 1][1] if i + 1 < len(lines) else None
    return nxt is not None and _ATTR.match(nxt) is not None
