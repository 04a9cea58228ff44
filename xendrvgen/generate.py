"""`xendrvgen generate`: load the spec and OS profiles, render, write.

Everything is rendered in memory first (so a template or spec error writes
nothing), then writer.plan() decides per file (create, update, unchanged,
refused because edited by hand, remove because no longer produced), then
writer.apply() writes atomically.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import osprofile, render, spec as spec_mod, writer
from .model import Spec
from .paths import DEFAULT_OUT, PROFILES_DIR, TEMPLATES_DIR, spec_display_name


@dataclass(frozen=True)
class Inputs:
    spec: Spec
    profiles: tuple
    spec_name: str
    templates_dir: Path
    all_os: bool               # every profile (so unknown OS directories are extra)


def load_spec_for_output(spec_path: str) -> Spec:
    """The spec, its positions naming it as generated files do.

    Errors are reported with the path as given; once it loads, a spec named
    differently (an absolute path, another working directory) is read again
    under its display name, so nothing rendered depends on how it was named.
    """
    spec = spec_mod.load(spec_path)
    name = spec_display_name(spec_path)
    if spec.file != name:
        spec = spec_mod.loads(Path(spec_path).read_text(encoding="utf-8"), name)
    return spec


def load_inputs(spec_path: str, os_names: list[str] | None = None, *,
                profiles_dir: str | Path = PROFILES_DIR,
                templates_dir: str | Path = TEMPLATES_DIR) -> Inputs:
    spec = load_spec_for_output(spec_path)
    profiles = osprofile.load_many(os_names or None, profiles_dir)
    return Inputs(spec, tuple(profiles), spec_display_name(spec_path), Path(templates_dir),
                  not os_names)


def render_inputs(inp: Inputs) -> list[render.RenderedFile]:
    return render.render_all(inp.spec, list(inp.profiles), templates_dir=inp.templates_dir,
                             spec_name=inp.spec_name)


def plan_generate(inp: Inputs, out: str = DEFAULT_OUT, *, force: bool = False,
                  files: list[render.RenderedFile] | None = None) -> list[writer.Change]:
    files = files if files is not None else render_inputs(inp)
    return writer.plan(out, [(f.path, f.text) for f in files], force=force,
                       prune=tuple(p.name for p in inp.profiles))


def generate(inp: Inputs, out: str = DEFAULT_OUT, *, force: bool = False) -> list[writer.Change]:
    """Render and write; SpecError (with diffs) if a file edited by hand is in the way."""
    changes = plan_generate(inp, out, force=force)
    refused = [c for c in changes if c.action == "refused"]
    if refused:
        raise writer.refusal_error(refused)
    writer.apply(changes)
    return changes


def summary(changes: list[writer.Change]) -> str:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.action] = counts.get(c.action, 0) + 1
    words = {"create": "created", "update": "updated", "unchanged": "unchanged",
             "remove": "removed", "kept": "left alone", "refused": "refused"}
    n = sum(counts.get(k, 0) for k in ("create", "update", "unchanged"))
    parts = [f"{counts[k]} {words[k]}" for k in words if counts.get(k)]
    return f"{n} generated file{'s' if n != 1 else ''}: {', '.join(parts)}"
