"""Golden tests: each bad spec gets exactly its expected diagnostics and exit 2.

A case file in tests/bad-specs/ names a fragment of the shipped spec, its
replacement, and the exact expected stderr.  `{line}` in the expectation is
the line where the replacement starts (`{line+2}` two lines further), so the
goldens survive unrelated edits of the spec above the fragment.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from xendrvgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "bad-specs").glob("*.case"))


def parse_case(path: Path) -> dict:
    sections, cur = {}, None
    for line in path.read_text().splitlines(keepends=True):
        m = re.match(r"^--- (replace|with|expect)\s*$", line)
        if m:
            cur = m.group(1)
            sections[cur] = ""
        elif cur:
            sections[cur] += line
    return sections


def expand(expect: str, line: int) -> str:
    return re.sub(r"\{line([+-]\d+)?\}", lambda m: str(line + int(m.group(1) or 0)), expect)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_spec(case, tmp_path, monkeypatch, capsys):
    c = parse_case(case)
    spec = (ROOT / "specs" / "blkif.yaml").read_text()
    assert spec.count(c["replace"]) == 1, f"{case.name}: fragment must occur exactly once in the spec"
    start = spec.index(c["replace"])
    line = spec.count("\n", 0, start) + 1
    (tmp_path / "blkif.yaml").write_text(spec.replace(c["replace"], c["with"]))
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "--spec", "blkif.yaml"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == expand(c["expect"], line)
    assert "Traceback" not in err


def test_enough_cases():
    assert len(CASES) >= 20
