"""Render the spec through Jinja2 templates, one OS profile at a time.

The environment is strict (StrictUndefined: a typo in a template is an
error, not an empty string), keeps the trailing newline, and loads templates
from `templates/`.  Output is deterministic: the context holds only ordered
data (tuples, lists, dataclasses), no clock, no host or absolute path; the
spec is named as `paths.spec_display_name` gives it; text is LF only.
Each RenderedFile names every template Jinja loaded for it, with a digest of
the source it read, so the render cache (cache.py) can tell when a file
must be rendered again; a file's output may depend on nothing else than the
spec, its OS profile, those templates and the package's own code.

Context of every template (plan and the views are built on first use):
  spec      the model.Spec
  os        the osprofile.OsProfile being rendered
  output    the osprofile.Output being rendered (template, path, header role)
  blkif     headerrecords.BlkifView  (the protocol header's data)
  abi       headerrecords.AbiView    (the ABI translation header's data)
  nodes     headerrecords.NodesView  (the XenStore node header's data)
  plan      xendrvgen.plan.build(spec) when that module exists (else it
            is false: test it with `{% if plan %}`, not `is none`):
            the OS-agnostic driver decisions (negotiation, state handling,
            request checks) for driver templates.  Extension point: a module
            `xendrvgen/plan/` with `build(spec)` is picked up here, once
            per spec, with no change to this file.
  spec_name how generated files name the spec (e.g. specs/blkif.yaml)
  layout    fieldaccess.Layout of the native structs (member paths, casts) for
            driver templates
Helpers (functions): src(mark) -> 'specs/blkif.yaml:123', comment(text,
indent='') -> comment lines in the OS's style, node_macro(node, suffix='')
-> the C macro of a XenStore node, include(role) -> how to #include one of
the generated headers.  Filters: ctype (spell a fixed-width C type),
cliteral (a constant's C literal).
"""
from __future__ import annotations

import importlib
import os
import posixpath
import traceback
from pathlib import Path

import jinja2

from xendrvgen.base import cescape
from . import cache as rendercache, headerviews, writer
from xendrvgen.spec import nodenames
from .fieldaccess import Layout
from .cspelling import CSpeller
from xendrvgen.base.diagnostics import Mark, SpecError, error
from xendrvgen.spec.model import Spec
from xendrvgen.spec.osprofile import OsProfile
from xendrvgen.base.paths import TEMPLATES_DIR, shown
from .cache import RenderedFile


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (like .pyc files); output does not depend on it.

    <paths.cache_dir()>/jinja-<version>; XENDRVGEN_NO_CACHE=1 turns it off.  An
    unwritable cache directory just means no cache.
    """
    from xendrvgen.base.paths import cache_dir
    if os.environ.get("XENDRVGEN_NO_CACHE"):
        return None
    path = os.path.join(cache_dir(), f"jinja-{jinja2.__version__}")
    try:
        os.makedirs(path, exist_ok=True)
        if not os.access(path, os.W_OK):
            return None
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(path)


class _Loader(jinja2.FileSystemLoader):
    """Remembers the digest of each template source it hands out (None: not found)."""

    def __init__(self, searchpath: str):
        super().__init__(searchpath)
        self.seen: dict[str, str | None] = {}
        self.unstable = False           # a template changed while this environment used it

    def get_source(self, environment, template):
        try:
            source = super().get_source(environment, template)
        except jinja2.TemplateNotFound:
            self._saw(template, None)
            raise
        self._saw(template, rendercache.source_digest(source[0]))
        return source

    def _saw(self, name: str, digest: str | None) -> None:
        if self.seen.setdefault(name, digest) != digest:
            self.unstable = True


class _Environment(jinja2.Environment):
    """Looks through lazily built context values, so messages name the real type;
    records the names of the templates loaded while `reads` is a set."""

    reads: set | None = None

    def _load_template(self, name, globals):
        # The one place get_template, select_template and get_or_select_template
        # (extends, import, include) load through, cached or not.
        if self.reads is not None:
            self.reads.add(name)
        return super()._load_template(name, globals)

    def take_reads(self) -> tuple | None:
        """The templates loaded since the last call, with their digests; None if unknown."""
        names, self.reads = self.reads, set()
        loader = self.loader
        if names is None or not isinstance(loader, _Loader) or loader.unstable \
                or any(n not in loader.seen for n in names):
            return None
        return tuple(sorted((n, loader.seen[n]) for n in names))

    def getattr(self, obj, attribute):
        if isinstance(obj, _Lazy):
            obj = obj._get()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, _Lazy):
            obj = obj._get()
        return super().getitem(obj, argument)


def environment(templates_dir: str | Path = TEMPLATES_DIR) -> jinja2.Environment:
    env = _Environment(
        loader=_Loader(str(templates_dir)),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        newline_sequence="\n",
    )
    env.filters["chomp"] = lambda text: str(text).rstrip("\n")
    # Spec text inside C goes through these (see cescape): a comment's body
    # on one line, and a whole string literal with its quotes.
    env.filters["ccomment"] = lambda text: cescape.comment_line(str(text))
    env.filters["cstring"] = lambda text: cescape.c_string(str(text))
    env.filters["ccomment_map"] = lambda pairs: {k: cescape.comment_line(v) for k, v in pairs}
    return env


def load_plan(spec: Spec):
    """xendrvgen.plan.build(spec) when the plan module exists, else None.

    A spec the plan cannot be built from is reported as a diagnostic at the
    spec's top (the plan module's own message), not as a traceback.
    """
    try:
        plan_mod = importlib.import_module("xendrvgen.plan")
    except ModuleNotFoundError as exc:
        if exc.name == "xendrvgen.plan":
            return None
        raise
    try:
        return plan_mod.build(spec)
    except SpecError:
        raise
    except getattr(plan_mod, "PlanError", ()) as exc:
        raise error(f"cannot plan the drivers: {exc}", Mark(spec.file, 1, 1)) from None


class _PlanCache:
    """The plan of one spec, built the first time a template asks for it."""

    def __init__(self, spec: Spec, plan=None):
        self.spec, self._plan, self._done = spec, plan, plan is not None

    def get(self):
        if not self._done:
            self._plan, self._done = load_plan(self.spec), True
        return self._plan


class _LazyViews:
    """The three header views of one OS, built on first use."""

    def __init__(self, spec: Spec, profile: OsProfile, spec_name: str):
        self.args = (spec, profile, spec_name)
        self._cache: dict = {}

    def get(self, name: str):
        if name not in self._cache:
            self._cache[name] = getattr(headerviews, f"{name}_view")(*self.args)
        return self._cache[name]


def _template_error(exc: Exception, templates_dir: Path, template: str, mark: Mark) -> SpecError:
    """A template problem as a diagnostic pointing at the template line."""
    line = getattr(exc, "lineno", None)
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    if line is None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename and str(templates_dir) in frame.filename:
                line, name = frame.lineno, frame.filename
                break
    where = name or template
    if not os.path.isabs(where):
        where = os.path.join(templates_dir, where)
    where = shown(where)
    msg = getattr(exc, "message", None) or str(exc)
    return error(f"template error: {msg} (rendering {template} for the output listed at {mark})",
                 Mark(where, line or 0), f"template '{template}'")


def render_os(spec: Spec, profile: OsProfile, *, spec_name: str,
              env: jinja2.Environment | None = None, templates_dir: str | Path = TEMPLATES_DIR,
              plan: "_PlanCache | None" = None, reuse=None) -> list[RenderedFile]:
    """Every output of one OS, banner included, in the profile's order.

    reuse: {path: RenderedFile} already rendered (from the render cache),
    returned as they are instead of rendered again."""
    templates_dir = Path(templates_dir)
    env = env or environment(templates_dir)
    sp = CSpeller(spec, profile, spec_name)
    views = _LazyViews(spec, profile, spec_name)
    plan = plan or _PlanCache(spec)

    def include(role: str) -> str:
        return profile.headers[role].include_as

    def comment(text: str, indent: str = "") -> list[str]:
        return sp.comment(text, indent)

    files = []
    recording = isinstance(env, _Environment)
    for out in profile.outputs:
        path = posixpath.join(profile.name, out.path)
        if reuse and path in reuse:
            files.append(reuse[path])
            continue
        if recording:
            env.take_reads()            # start afresh: what this file loads
        try:
            tpl = env.get_template(out.template)
        except jinja2.TemplateNotFound as exc:
            raise error(f"template '{exc.name}' not found in {templates_dir}", out.mark,
                        f"OS profile '{profile.name}'") from None
        except jinja2.TemplateSyntaxError as exc:
            raise _template_error(exc, templates_dir, out.template, out.mark) from None
        ctx = {
            "spec": spec, "os": profile, "output": out, "plan": _Lazy(plan.get), "spec_name": spec_name,
            "src": sp.src, "comment": comment, "node_macro": nodenames.node_macro,
            "include": include, "tail": sp.tail,
            # fieldaccess.Layout of the native structs: how driver code reaches each
            # request field in this OS's request layout (union or separate).
            "layout": Layout(spec, profile),
        }
        for name in ("blkif", "abi", "nodes"):
            ctx[name] = _Lazy(lambda name=name: views.get(name))
        try:
            body = tpl.render(**ctx)
        except SpecError:
            raise
        except jinja2.TemplateError as exc:
            raise _template_error(exc, templates_dir, out.template, out.mark) from None
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
            raise _template_error(exc, templates_dir, out.template, out.mark) from None
        text = writer.compose(
            body, banner_style=out.banner or writer.banner_style_for(out.path, profile.banner),
            preamble=profile.preamble if writer.is_c_file(out.path) else (),
            spec_name=spec_name, spec_sha256=spec.sha256, os_name=profile.name, template=out.template,
            extra=profile.banner_extra if writer.is_c_file(out.path) else ())
        files.append(RenderedFile(profile.name, path, out.template, text,
                                  env.take_reads() if recording else None))
    return files


class _Lazy:
    """Context value built on first use: a template that never touches the
    plan or a view does not pay for building it."""

    __slots__ = ("_build", "_value", "_done")

    def __init__(self, build):
        self._build, self._value, self._done = build, None, False

    def _get(self):
        if not self._done:
            self._value, self._done = self._build(), True
        return self._value

    def __getattr__(self, name):
        return getattr(self._get(), name)

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())

    def __bool__(self):
        return bool(self._get())


def render_all(spec: Spec, profiles: list[OsProfile], *, templates_dir: str | Path = TEMPLATES_DIR,
               spec_name: str | None = None, reuse=None) -> list[RenderedFile]:
    """Every output of every profile; all template and spec problems at once.
    reuse: as render_os's, for every profile."""
    from xendrvgen.base.paths import spec_display_name
    spec_name = spec_name or spec_display_name(spec.file)
    env = environment(templates_dir)
    plan = _PlanCache(spec)
    files, diags = [], []
    for prof in profiles:
        try:
            files.extend(render_os(spec, prof, spec_name=spec_name, env=env,
                                   templates_dir=templates_dir, plan=plan, reuse=reuse))
        except SpecError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise SpecError(list(dict.fromkeys(diags)))
    return files
