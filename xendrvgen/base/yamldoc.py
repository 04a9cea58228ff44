"""Load a YAML spec into plain Python data plus a table of source positions.

PyYAML's composer gives every node a start mark; we walk the node graph once,
building ordinary dicts/lists/scalars and recording, for each path of keys and
indexes, where its value (and, for mapping entries, its key) starts.  Later
stages report errors by path, and the table turns a path into file:line:col.

Specs come from pull requests, so the file's size, the nodes built (an alias
counts as every node it repeats: no "billion laughs") and the nesting depth
are bounded (limits.py).
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import limits
from .diagnostics import Diagnostic, ERROR, Mark, SpecError

Path_ = tuple  # a path of keys (str) and indexes (int) into the document



class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


class _PyLoader(yaml.SafeLoader):
    """The pure-Python loader, its composer stopped at the nesting limit: it
    recurses, so deep input would exhaust Python's stack (libyaml's stops
    itself, at 1000 levels, and the builder checks the limit after it)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth, self._max_depth = 0, limits.get("yaml-depth")

    def compose_node(self, parent, index):
        if self._depth > self._max_depth:
            raise _TooDeep(self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml's composer is ~10x faster than the pure-Python one and keeps marks too.
_Loader = getattr(yaml, "CSafeLoader", _PyLoader)


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


def _too_large(file: str) -> SpecError:
    return limits.exceeded("spec-bytes", f"the file is larger than {limits.most('spec-bytes')}", Mark(file))


def _too_deep(mark: Mark) -> SpecError:
    return limits.exceeded("yaml-depth", f"the document nests deeper than {limits.most('yaml-depth')}", mark)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.marks: dict = {}
        self.key_marks: dict = {}
        self.errors: list[Diagnostic] = []
        self._constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
        yaml.constructor.SafeConstructor.__init__(self._constructor)
        self.nodes, self.max_nodes = 0, limits.get("yaml-nodes")
        self.max_depth = limits.get("yaml-depth")

    def build(self, node, path: tuple):
        mark = self.marks[path] = _mark(self.file, node.start_mark)
        # A shared (aliased) node is built again at each use: count every one.
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise limits.exceeded("yaml-nodes", f"the document has more than {self.max_nodes:,} YAML nodes "
                                  "once its aliases are expanded", mark)
        if len(path) > self.max_depth:     # also ends an alias used inside its own anchor
            raise _too_deep(mark)
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
        try:
            return self._constructor.construct_object(node, deep=True)
        except ValueError as exc:    # an integer of 5000 digits, a 13th month
            raise SpecError([Diagnostic(ERROR, f"this value cannot be read: {str(exc).split(';')[0]}",
                                        mark)]) from None


def load_text(text: str, file: str) -> Document:
    if len(text) > limits.get("spec-bytes"):
        raise _too_large(file)
    try:
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            # Re-parse with the pure-Python loader so messages are the same
            # whether or not libyaml is present.
            node = yaml.compose(text, Loader=_PyLoader)
    except _TooDeep as exc:
        raise _too_deep(_mark(file, exc.mark)) from None
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


def read_bounded(path: str | Path) -> str:
    """A YAML file's text, read only if it is a regular file and at most
    limit+1 bytes of it (/dev/zero or a pipe neither hangs nor fills memory)."""
    most = limits.get("spec-bytes")
    # O_NONBLOCK: opening a FIFO does not wait for a writer (it is refused next)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SpecError([Diagnostic(ERROR, "cannot read: not a regular file "
                                        "(a directory, device or pipe)", Mark(str(path)))])
        with open(fd, "rb", closefd=False) as f:
            data = f.read(most + 1)
    finally:
        os.close(fd)
    if len(data) > most:
        raise _too_large(str(path))
    return data.decode("utf-8")


def load_file(path: str | Path) -> Document:
    path = Path(path)
    try:
        text = read_bounded(path)
    except FileNotFoundError:
        raise SpecError([Diagnostic(ERROR, "spec file not found (pass --spec FILE)", Mark(str(path)))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Diagnostic(ERROR, f"cannot read spec: {exc}", Mark(str(path)))]) from None
    return load_text(text, str(path))
