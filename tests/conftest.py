"""Fixtures shared by several test modules."""
from __future__ import annotations

from pathlib import Path

import pytest

from xendrvgen.spec import osprofile
from xendrvgen.render import environment as render
from xendrvgen.spec import load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """A fresh render of every OS (not the committed tree: these tests are about the generator)."""
    out = tmp_path_factory.mktemp("gen")
    spec = load(ROOT / "specs" / "blkif.yaml")
    for f in render.render_all(spec, list(osprofile.load_many(None))):
        p = out / f.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f.text)
    return out


@pytest.fixture(scope="session")
def spec():
    """The shipped spec, loaded once."""
    return load(ROOT / "specs" / "blkif.yaml")


@pytest.fixture(scope="session")
def plan(spec):
    """The driver plan of the shipped spec."""
    from xendrvgen import plan as plan_mod
    return plan_mod.build(spec)


def feature_node(name: str, feature: str, description: str) -> str:
    """YAML of one more backend feature node, to insert into a copy of the spec."""
    return f"""  - name: {name}
    side: backend
    section: features
    type: bool
    default: 0
    writer: backend
    readers: [frontend]
    published_in: InitWait
    documented: false
    feature: {feature}
    description: "{description}"
"""


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests neither read nor fill the user's cache (schema verdicts, header facts)."""
    import os
    old = os.environ.get("XENDRVGEN_CACHE_DIR")
    os.environ["XENDRVGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("XENDRVGEN_CACHE_DIR", None)
    else:
        os.environ["XENDRVGEN_CACHE_DIR"] = old
