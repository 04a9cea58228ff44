"""`xendrvgen generate`: load the spec and OS profiles, render, write.

Everything is rendered in memory first (so a template or spec error writes
nothing), then writer.plan() decides per file (create, update, unchanged,
refused because edited by hand, remove because no longer produced), then
writer.apply() writes atomically.  A file whose inputs did not change comes
from the render cache (cache.py); the spec and profiles are parsed only
when something is rendered or a command asks for them.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from . import writer
from xendrvgen.base.paths import DEFAULT_OUT, PROFILES_DIR, TEMPLATES_DIR, profile_names, spec_display_name


class Inputs:
    """What a render reads.  `spec` and `profiles` are loaded and checked on
    first use (spec first, so its errors come first, as they always did)."""

    def __init__(self, spec_path: str, os_names: list[str] | None, profiles_dir: str | Path,
                 templates_dir: str | Path):
        self.spec_path, self.os_asked = spec_path, os_names or None
        self.profiles_dir, self.templates_dir = Path(profiles_dir), Path(templates_dir)
        self.spec_name = spec_display_name(spec_path)
        self.all_os = not os_names     # every profile (so unknown OS directories are extra)

    @cached_property
    def spec(self):
        return load_spec_for_output(self.spec_path)

    @cached_property
    def profiles(self) -> tuple:
        from xendrvgen.spec import osprofile
        self.spec                  # loaded first: its errors come first
        return tuple(osprofile.load_many(self.os_asked, self.profiles_dir))

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The OS names rendered, in order, without parsing a profile (unless
        one is unknown: then loading reports it as load_many does)."""
        known = profile_names(self.profiles_dir)
        wanted = list(dict.fromkeys(self.os_asked)) if self.os_asked else known
        if not wanted or any(n not in known for n in wanted):
            return tuple(p.name for p in self.profiles)
        return tuple(wanted)


def load_spec_for_output(spec_path: str):
    """The spec, its positions naming it as generated files do.

    Errors are reported with the path as given; once it loads, a spec named
    differently (an absolute path, another working directory) is read again
    under its display name, so nothing rendered depends on how it was named.
    """
    from xendrvgen import spec as spec_mod
    spec = spec_mod.load(spec_path)
    name = spec_display_name(spec_path)
    if spec.file != name:
        spec = spec_mod.loads(Path(spec_path).read_text(encoding="utf-8"), name)
    return spec


def load_inputs(spec_path: str, os_names: list[str] | None = None, *,
                profiles_dir: str | Path = PROFILES_DIR,
                templates_dir: str | Path = TEMPLATES_DIR, lazy: bool = False) -> Inputs:
    """The inputs, the spec and profiles loaded and checked now (SpecError), or
    with lazy=True when first needed (a render-cache hit needs neither)."""
    inp = Inputs(spec_path, os_names, profiles_dir, templates_dir)
    if not lazy:
        inp.profiles               # the spec, then the profiles
    return inp


def render_inputs(inp: Inputs) -> list:
    """Every output of every OS (render.RenderedFile): each file from the
    render cache when nothing that shapes it changed, else rendered and
    remembered."""
    from . import cache as rendercache
    slots = rendercache.slots(inp.spec_path, inp.spec_name, inp.names, inp.profiles_dir,
                              inp.templates_dir) or {}
    cached = {n: s.load() for n, s in slots.items()}      # n: (fresh files, all fresh) or None
    if slots and all(c is not None and c[1] for c in cached.values()):
        return [f for c in cached.values() for f in c[0]]
    from . import environment as render
    spec, profiles = inp.spec, inp.profiles     # parsed (and reported) in this order
    files = render.render_all(spec, list(profiles), templates_dir=inp.templates_dir,
                              spec_name=inp.spec_name,
                              reuse={f.path: f for c in cached.values() if c for f in c[0]})
    for name, slot in slots.items():
        if cached[name] is None or not cached[name][1]:
            slot.store([f for f in files if f.os == name])
    return files


def plan_generate(inp: Inputs, out: str = DEFAULT_OUT, *, force: bool = False,
                  files: list | None = None) -> list[writer.Change]:
    files = files if files is not None else render_inputs(inp)
    return writer.plan(out, [(f.path, f.text) for f in files], force=force, prune=inp.names)


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
