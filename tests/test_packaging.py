"""A regular install must carry every data directory the tool reads."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_data_directory_is_installed():
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    listed = {globs[0].rsplit("/", 1)[0] for globs in data_files.values()}
    assert all(g[0].endswith("/*.*") for g in data_files.values()), "globs must match files only"
    present = set()
    for top in ("templates", "specs", "contracts", "interop"):
        for d, _, files in os.walk(ROOT / top):
            if files:
                present.add(str(Path(d).relative_to(ROOT)))
    assert present - listed == set(), "add these to [tool.setuptools.data-files] in pyproject.toml"
    assert all(k == f"share/xendrvgen/{v[0].rsplit('/', 1)[0]}" for k, v in data_files.items())
