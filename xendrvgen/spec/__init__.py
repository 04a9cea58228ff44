"""Load, schema-check, build and semantically check a spec in one call."""
from __future__ import annotations

from pathlib import Path

from . import checks, model, schema
from xendrvgen.base.diagnostics import Collector, SpecError
from xendrvgen.base.yamldoc import load_file, load_text

DEFAULT_SPEC = Path("specs/blkif.yaml")


def _finish(doc) -> model.Spec:
    diags = Collector()
    if not schema.check(doc, diags):
        raise SpecError(diags.items)
    spec = model.build(doc, diags)
    checks.check(spec, diags)
    diags.raise_if_errors()
    return spec


def load(path: str | Path = DEFAULT_SPEC) -> model.Spec:
    """The checked Spec, or SpecError carrying every problem found."""
    return _finish(load_file(path))


def loads(text: str, file: str = "<spec>") -> model.Spec:
    return _finish(load_text(text, file))
