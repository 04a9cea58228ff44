"""Load a YAML spec into plain Python data plus a table of source positions.

PyYAML's composer gives every node a start mark; we walk the node graph once,
building ordinary dicts/lists/scalars and recording, for each path of keys and
indexes, where its value (and, for mapping entries, its key) starts.  Later
stages report errors by path, and the table turns a path into file:line:col.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from .diagnostics import Diagnostic, ERROR, Mark, SpecError

Path_ = tuple  # a path of keys (str) and indexes (int) into the document

# libyaml's composer is ~10x faster than the pure-Python one and keeps marks too.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    file: str                 # as the user named it (shown in messages)
    data: object
    marks: dict               # path -> Mark of the value
    key_marks: dict           # path -> Mark of the mapping key naming it
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def mark(self, path: Path_) -> Mark:
        """The closest recorded position for a path (falls back to parents)."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), Mark(self.file, 1, 1))

    def key_mark(self, path: Path_) -> Mark:
        return self.key_marks.get(tuple(path)) or self.mark(path)


def _mark(file: str, m) -> Mark:
    return Mark(file, m.line + 1, m.column + 1)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.marks: dict = {}
        self.key_marks: dict = {}
        self.errors: list[Diagnostic] = []
        self._constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
        yaml.constructor.SafeConstructor.__init__(self._constructor)

    def build(self, node, path: tuple):
        self.marks[path] = _mark(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            out = {}
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    self.errors.append(Diagnostic(ERROR, "mapping keys must be plain names",
                                                  _mark(self.file, knode.start_mark)))
                    continue
                key = knode.value
                if key in out:
                    first = self.key_marks[path + (key,)]
                    self.errors.append(Diagnostic(
                        ERROR, f"duplicate key '{key}' (first defined at line {first.line})",
                        _mark(self.file, knode.start_mark)))
                    continue
                self.key_marks[path + (key,)] = _mark(self.file, knode.start_mark)
                out[key] = self.build(vnode, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, path + (i,)) for i, v in enumerate(node.value)]
        return self._constructor.construct_object(node, deep=True)


def load_text(text: str, file: str) -> Document:
    try:
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            # Re-parse with the pure-Python loader so messages are the same
            # whether or not libyaml is present.
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        mark = _mark(file, m) if m else Mark(file)
        problem = exc.problem or "malformed YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise SpecError([Diagnostic(ERROR, f"malformed YAML: {problem}", mark)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(ERROR, f"malformed YAML: {exc}", Mark(file))]) from None
    if node is None:
        raise SpecError([Diagnostic(ERROR, "the spec is empty", Mark(file, 1, 1))])
    b = _Builder(file)
    try:
        data = b.build(node, ())
    except yaml.YAMLError as exc:
        m = getattr(exc, "problem_mark", None)
        raise SpecError([Diagnostic(ERROR, f"malformed YAML: {getattr(exc, 'problem', exc)}",
                                    _mark(file, m) if m else Mark(file))]) from None
    if b.errors:
        raise SpecError(b.errors)
    return Document(file, data, b.marks, b.key_marks, text)


def load_file(path: str | Path) -> Document:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Diagnostic(ERROR, "spec file not found (pass --spec FILE)", Mark(str(path)))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Diagnostic(ERROR, f"cannot read spec: {exc}", Mark(str(path)))]) from None
    return load_text(text, str(path))
