"""The spec: the YAML protocol description, loaded, schema-checked, resolved
and semantically checked in one call (`load`, `loads`).

schema (the JSON Schema of the format, and helpers the profile schemas
share), model (the frozen dataclasses of a spec), resolve (a Document turned
into a Spec), checks (whole-spec semantic checks), diff (what changed between
two specs), osprofile (OS profiles, the other input of rendering), nodenames
and drivernames (the names the drivers spell).
"""
from __future__ import annotations

from pathlib import Path

from . import checks, model, resolve, schema
from xendrvgen.base.diagnostics import Collector, SpecError
from xendrvgen.base.yamldoc import load_file, load_text

DEFAULT_SPEC = Path("specs/blkif.yaml")


def _finish(doc) -> model.Spec:
    diags = Collector()
    if not schema.check(doc, diags):
        raise SpecError(diags.items)
    spec = resolve.build(doc, diags)
    checks.check(spec, diags)
    diags.raise_if_errors()
    return spec


def load(path: str | Path = DEFAULT_SPEC) -> model.Spec:
    """The checked Spec, or SpecError carrying every problem found."""
    return _finish(load_file(path))


def loads(text: str, file: str = "<spec>") -> model.Spec:
    return _finish(load_text(text, file))
