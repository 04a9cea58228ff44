"""Which side of the driver pair each template of an OS kit spells.

A template that reads the frontend's plan (`plan.frontend`) and not the
backend's is the frontend's, and the other way round; one that reads both or
neither (protocol headers, shared XenStore helpers, build fragments) serves
both sides.
"""
from __future__ import annotations

import re
from pathlib import Path

SIDES = ("frontend", "backend")


def template_side(text: str) -> str:
    """'frontend', 'backend' or 'shared'."""
    fe = bool(re.search(r"\bplan\.frontend\b", text))
    be = bool(re.search(r"\bplan\.backend\b", text))
    if fe and not be:
        return "frontend"
    if be and not fe:
        return "backend"
    return "shared"


def output_sides(profile, templates_dir: Path) -> dict[str, str]:
    """{output path: side} of every output of an OS profile."""
    out = {}
    for o in profile.outputs:
        p = Path(templates_dir) / o.template
        out[o.path] = "shared" if o.header or not p.is_file() else template_side(p.read_text(encoding="utf-8"))
    return out


def sides_of(profile, templates_dir: Path) -> list[str]:
    """The sides an OS has a driver for, in plan order."""
    found = set(output_sides(profile, templates_dir).values())
    return [s for s in SIDES if s in found]
