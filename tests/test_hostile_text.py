"""Spec text from a hostile pull request stays text in the generated C.

Every description-like string of the shipped spec gets a payload that would
close a comment, continue a `//` comment onto the next line, or end a string
literal.  The generated C of every OS must mean exactly what the unmodified
spec's does: the same tokens once comments are removed and string literals
are emptied, with the C lexer's own rules (line splicing first).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from xendrvgen.base import cescape
from xendrvgen.spec import osprofile
from xendrvgen.render import environment as render
from xendrvgen.spec import load

ROOT = Path(__file__).resolve().parent.parent
TEXT_KEYS = ("description", "title", "max_rule", "text")
PAYLOADS = (
    ' */ int injected_a; /* ',
    ' "); int injected_b; (" ',
    ' ends in a backslash \\',
    ' trigraph ??/',
    ' /* nested // comment ',
)


def _poison(node, i=[0]):
    """Append a payload (in turn) to every text value of the spec data."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                node[key] = value + PAYLOADS[i[0] % len(PAYLOADS)]
                i[0] += 1
            else:
                _poison(value)
    elif isinstance(node, list):
        for item in node:
            _poison(item)


def c_tokens(text: str) -> list[str]:
    """The text as a C compiler's lexer sees it: lines spliced, comments gone,
    string and character literals emptied, split on white space."""
    text = text.replace("\\\n", "")          # translation phase 2
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out).split()


def _render(spec_path: Path) -> dict[str, str]:
    spec = load(spec_path)
    files = render.render_all(spec, list(osprofile.load_many(None)), spec_name="spec.yaml")
    return {f.path: f.text for f in files if re.search(r"\.(c|h)$", f.path)}


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    data = yaml.safe_load((ROOT / "specs" / "blkif.yaml").read_text())
    _poison(data)
    hostile = tmp_path_factory.mktemp("hostile") / "spec.yaml"
    hostile.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return _render(ROOT / "specs" / "blkif.yaml"), _render(hostile)


def test_the_payload_reaches_the_output(renders):
    """The test means something: the hostile text is in the generated files."""
    _, hostile = renders
    joined = "\n".join(hostile.values())
    assert "injected_a" in joined and "injected_b" in joined


def test_spec_text_never_changes_the_code(renders):
    clean, hostile = renders
    assert clean.keys() == hostile.keys()
    for path in clean:
        ours, theirs = c_tokens(clean[path]), c_tokens(hostile[path])
        assert "injected_a" not in " ".join(theirs) and "injected_b" not in " ".join(theirs), path
        assert ours == theirs, f"{path}: description text changed the C it generates"


def test_comment_text_cannot_close_or_continue_a_comment():
    for text in PAYLOADS + ("a*/b", "x/*/y", "\\", "a\\ b", "??/", "line\rbreak", "bidi\u202eflip"):
        body = cescape.comment_text(text)
        assert "*/" not in body and "/*" not in body
        assert not re.search(r"(\\|\?\?/)\s*(\n|$)", body)
        assert "\r" not in body and "\u202e" not in body
        assert c_tokens(f"/* {body} */\nint kept;") == ["int", "kept;"]
        assert c_tokens(f"// {cescape.comment_line(text)}\nint kept;") == ["int", "kept;"]


@pytest.mark.parametrize("text", ['plain', 'a "quoted" word', "back\\slash", "??=trigraph?", "tab\tand\nnewline",
                                  "\u00e9t\u00e9", "\x00nul"])
def test_c_string_is_one_literal_of_the_same_bytes(text):
    lit = cescape.c_string(text)
    assert lit.startswith('"') and lit.endswith('"')
    assert c_tokens(f"x = {lit};") == ["x", "=", '"";']
    assert "??" not in lit and all(0x20 <= ord(c) < 0x7F for c in lit)
    # Decode it back with C's escape rules.
    body, out, i = lit[1:-1], bytearray(), 0
    while i < len(body):
        if body[i] != "\\":
            out.append(ord(body[i]))
            i += 1
        elif body[i + 1] in "01234567":
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            out.append({"n": 10}.get(body[i + 1], ord(body[i + 1])))
            i += 2
    assert out.decode("utf-8") == text
