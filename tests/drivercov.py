"""What a generated driver must cover, derived from the spec and the plan.

Shared by the FreeBSD, NetBSD and EDK2 driver tests: render one OS's tree,
find a side's code (comments stripped), and compare what it handles and
touches with what the spec and xendrvgen's plan say it must.  Nothing here
is a hand list of states, nodes or checks.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import feature_node
from xendrvgen import compile as xcompile
from xendrvgen.render import generate
from xendrvgen.spec import nodenames

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "blkif.yaml"
FEATURES = ROOT / "docs" / "features.md"

# A feature node a test adds to a copy of the spec: a driver must read it and still build.
EXTRA_NODE = feature_node("feature-xdg-probe", "xdg_probe", "A feature added by a test.") + "\n"


def render(os_name: str, spec_path: Path, out: Path) -> Path:
    inp = generate.load_inputs(str(spec_path), [os_name])
    generate.generate(inp, str(out), force=True)
    return out



def module_fixtures(os_name: str, title: str):
    """The `gen` and `built` module fixtures of a driver test: the shipped
    spec rendered for os_name, and its compile-test, which must pass."""
    @pytest.fixture(scope="module")
    def gen(tmp_path_factory):
        return render(os_name, SPEC, tmp_path_factory.mktemp("gen"))

    @pytest.fixture(scope="module")
    def built(gen, tmp_path_factory):
        res = xcompile.build(os_name, gen, work_dir=tmp_path_factory.mktemp("work"), use_cache=False)
        assert res.ok, f"the {title} build failed:\n{res.log}"
        return res
    return gen, built


def spec_with_extra_node(tmp: Path) -> Path:
    text = SPEC.read_text()
    anchor = "xenstore_nodes:\n"
    assert anchor in text
    copy = tmp / "blkif.yaml"
    copy.write_text(text.replace(anchor, anchor + EXTRA_NODE, 1))
    return copy


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def code_of(gen: Path, os_name: str, files: list[str]) -> str:
    return "\n".join(strip_comments((gen / os_name / f).read_text()) for f in files)


def function_body(code: str, name: str) -> str:
    """The text of a C function definition (return type on the line before the name)."""
    m = re.search(rf"^{re.escape(name)} ?\((?:[^;{{]*?)\)\s*\n\{{\n", code, flags=re.M)
    assert m, f"no definition of {name}"
    body = code[m.start():]
    return body[:body.index("\n}\n") + 3]


def switch_cases(body: str, outer: str, inner: str) -> dict:
    """{other end's state: [own states with a case]} of a rendered reaction table.

    `outer` and `inner` are the indentation of the two levels of case labels.
    """
    out: dict = {}
    pattern = rf"^{outer}case XenbusState(\w+):\n(.*?)(?=^{outer}case |^{outer}default:)"
    for m in re.finditer(pattern, body, flags=re.S | re.M):
        out[m.group(1)] = re.findall(rf"^{inner}case XenbusState(\w+):", m.group(2), flags=re.M)
    return out


def expected_reactions(spec, side: str) -> dict:
    sm = spec.machine(side)
    return {s.name: {own for own in sm.states() if s.name not in sm.ignores and sm.reaction(own, s.name)}
            for s in spec.states}


def side_nodes(spec, side: str) -> list:
    return [n for n in spec.nodes if (side in n.readers or n.writer == side) and not spec.retired(n)]


def missing_node_macros(spec, side: str, code: str) -> list[str]:
    return [f"{n.side}/{n.name} ({nodenames.node_macro(n)})" for n in side_nodes(spec, side)
            if not re.search(rf"\b{nodenames.node_macro(n)}\b", code)]


def features_section(os_title: str) -> str:
    """The part of docs/features.md about one OS (from its `## ` heading to the next)."""
    text = FEATURES.read_text()
    m = re.search(rf"^## {re.escape(os_title)}\b.*?(?=^## |\Z)", text, flags=re.S | re.M)
    assert m, f"docs/features.md has no section for {os_title}"
    return m.group(0)


def hooks_marked(text: str) -> set:
    return set(re.findall(r"XENDRVGEN HOOK\((\w+)\)", text))


def check_blocks(code: str, ops, case_indent: str) -> dict:
    """{operation constant: the text of its case in a rendered request check}."""
    out = {}
    for o in ops:
        i = code.index(f"{case_indent}case {o.constant}:")
        rest = code[i + 1:]
        m = re.search(rf"\n{case_indent}case |\n{case_indent}default:", rest)
        out[o.constant] = code[i:i + 1 + m.start()]
    return out
