"""The Linux profile's kernel_api table: the one place kernel versions are written.

The generated Linux drivers branch on block-layer and xenbus API changes
(6.5's blk_mode_t, 6.9's bdev files, 6.11's queue_limits features, ...)
only through `os.since(NAME)`, which spells the version test from the
table in specs/os/linux.yaml.  These tests hold the generated code to that:
every version test in it is a row of the table, every row is used, and a
bad row or an unknown name is a clear error.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from xendrvgen.spec import osprofile
from xendrvgen.base.diagnostics import SpecError

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "specs" / "os" / "linux.yaml"
GENERATED = ROOT / "generated" / "linux"
TEMPLATES = ROOT / "templates"

VERSION_TEST = re.compile(r"LINUX_VERSION_CODE\s*>=\s*KERNEL_VERSION\((\d+), (\d+), 0\)")


def _linux():
    return osprofile.load(PROFILE)


def _generated_c() -> str:
    return "\n".join(p.read_text() for p in sorted(GENERATED.rglob("*")) if p.suffix in (".c", ".h"))


def test_every_version_test_in_the_generated_drivers_is_a_row_of_the_table():
    table = {v for v, _ in _linux().kernel_api.values()}
    code = _generated_c()
    found = {(int(a), int(b)) for a, b in VERSION_TEST.findall(code)}
    assert found, "no kernel version test in generated/linux"
    assert found <= table, f"versions not in specs/os/linux.yaml's kernel_api: {sorted(found - table)}"
    # No other spelling of a version test slips in beside the table's.
    assert code.count("KERNEL_VERSION(") == len(VERSION_TEST.findall(code))


def test_every_row_of_the_table_is_used_by_a_template():
    text = "\n".join(p.read_text() for p in sorted((TEMPLATES / "linux").rglob("*.j2")))
    used = set(re.findall(r"os\.since\('([a-z_]+)'\)", text))
    assert used == set(_linux().kernel_api), (
        f"unused rows: {sorted(set(_linux().kernel_api) - used)}; unknown names: {sorted(used - set(_linux().kernel_api))}")


def test_since_spells_the_version_test_and_refuses_an_unknown_name():
    linux = _linux()
    assert linux.since("queue_limits_features") == "LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)"
    with pytest.raises(KeyError, match="no kernel_api entry 'nope'"):
        linux.since("nope")


@pytest.mark.parametrize("since", ['"6"', '"6.x"', '"v6.11"', "6.11"])
def test_a_bad_release_in_the_table_is_an_error_with_its_line(since):
    text = PROFILE.read_text().replace('since: "6.11"', f"since: {since}", 1)
    assert text != PROFILE.read_text()
    with pytest.raises(SpecError) as exc:
        osprofile.loads(text, "linux.yaml")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() == f"since: {since}")
    assert f"linux.yaml:{line}:" in str(exc.value), str(exc.value)
