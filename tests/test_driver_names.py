"""The spec elements templates spell by name are the ones the spec checks require."""
from __future__ import annotations

import re
from pathlib import Path

from xendrvgen.spec import drivernames

ROOT = Path(__file__).resolve().parent.parent


def test_every_node_a_template_names_is_required_by_the_checks():
    named = set()
    for tpl in (ROOT / "templates").rglob("*.j2"):
        named |= set(re.findall(r"\.(?:read|write)\('([a-z0-9%-]+)'", tpl.read_text()))
    assert named, "the scan found nothing: the templates' lookup spelling changed"
    required = {name for _, name in drivernames.REQUIRED}
    assert named <= required, f"templates name nodes the checks do not require: {sorted(named - required)}"


def test_every_action_a_template_implements_is_required_by_the_checks():
    named = set()
    for tpl in (ROOT / "templates").rglob("*.j2"):
        named |= set(re.findall(r"DESC\['([a-z_]+)'\]", tpl.read_text()))
    assert named, "the scan found nothing: the templates' spelling changed"
    assert named <= set(drivernames.REQUIRED_ACTIONS), sorted(named - set(drivernames.REQUIRED_ACTIONS))
