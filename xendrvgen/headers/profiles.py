"""Header profiles: every per-header detail, kept in specs/headers/*.yaml.

A profile says where a copy of blkif.h is installed, how to preprocess it
(include dirs, stub headers, per-ABI macros), how its request kinds map onto
its structs, and what its comments hold.  The rest of the package reads
headers only through a profile, so no header gets a special case in code.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from xendrvgen.base.diagnostics import Collector, Mark, error
from xendrvgen.base.paths import HEADER_PROFILES_DIR
from xendrvgen.base.yamldoc import load_text, read_bounded
from xendrvgen.spec.schema import TEXT, describe_error, obj, violations
from .abi import ABIS

PROFILE_DIR = HEADER_PROFILES_DIR


@dataclass(frozen=True)
class RequestKind:
    name: str                      # the spec's kind: blkif_request, blkif_request_discard ...
    struct: str                    # struct tag carrying it on the wire
    select: Mapping[str, str]      # union field path -> member kept (wire.wire_map)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    file: str                      # the YAML file it was read from
    package: str                   # Debian package installing the header
    locate: tuple[str, ...]        # globs of installed copies
    detect_require: tuple[str, ...]  # regexes that must all occur in the header text
    detect_forbid: tuple[str, ...]   # regexes that must not occur
    include_dirs: tuple[str, ...]  # relative to the header's directory, or absolute globs
    companions: tuple[str, ...]    # headers beside it whose constants count (relative)
    stubs: Mapping[str, str]       # include path -> stub content
    abi_defines: Mapping[str, Mapping[str, str]]  # abi -> extra macros
    request_kinds: Mapping[str, RequestKind]
    padding: str                   # regex matching padding field names
    node_docs: bool                # header comments hold the XenStore node block
    canonical: bool = False        # the upstream original: the spec must hold all it defines
    prelude: str = ""              # C the copy's own code includes first (EDK2's base types)

    def defines_for(self, abi: str) -> Mapping[str, str]:
        return self.abi_defines.get(abi, MappingProxyType({}))

    def is_padding(self, field_name: str) -> bool:
        return re.search(self.padding, field_name) is not None

    def matches(self, text: str) -> bool:
        return (all(re.search(p, text) for p in self.detect_require)
                and not any(re.search(p, text) for p in self.detect_forbid))

    def resolve_include_dirs(self, header: str) -> list[str]:
        base = os.path.dirname(os.path.abspath(header))
        dirs: list[str] = []
        for d in self.include_dirs:
            if os.path.isabs(d):
                dirs.extend(sorted(glob.glob(d), key=_natural))
            else:
                dirs.append(os.path.normpath(os.path.join(base, d)))
        return dirs

    def companion_paths(self, header: str) -> list[str]:
        base = os.path.dirname(os.path.abspath(header))
        paths = (os.path.join(base, c) for c in self.companions)
        return [p for p in paths if os.path.isfile(p)]


@dataclass(frozen=True)
class HeaderOptions:
    """What a profile cannot know about one copy of the header, from the
    command line: --include DIR (searched after the stubs, before the
    profile's own directories) and --define NAME[=VALUE] (on every ABI, over
    the profile's and the compiler's macros)."""
    includes: tuple[str, ...] = ()                 # absolute directories
    defines: tuple[tuple[str, str], ...] = ()

    def apply(self, profile: Profile) -> Profile:
        if not self:
            return profile
        defines = dict(self.defines)
        return dataclasses.replace(
            profile,
            include_dirs=tuple(glob.escape(d) for d in self.includes) + profile.include_dirs,
            abi_defines=MappingProxyType({abi: MappingProxyType({**profile.defines_for(abi), **defines})
                                          for abi in ABIS}))

    def __bool__(self) -> bool:
        return bool(self.includes or self.defines)

    def key(self) -> str:
        """Part of the header-facts cache key."""
        return repr((self.includes, self.defines)) if self else ""


_MACRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def header_options(includes=(), defines=()) -> HeaderOptions:
    """HeaderOptions from --include and --define arguments, checked."""
    dirs = []
    for d in includes:
        if not os.path.isdir(d):
            raise error(f"--include {d}: no such directory", Mark("--include"))
        dirs.append(os.path.abspath(d))
    macros = []
    for d in defines:
        name, eq, value = d.partition("=")
        if not _MACRO_NAME.fullmatch(name):
            raise error(f"--define {d!r}: '{name}' is not a macro name (NAME or NAME=VALUE)",
                        Mark("--define"))
        if any(c in value for c in "\n\r\0"):
            raise error(f"--define {name}: the value cannot hold a line break or a NUL byte",
                        Mark("--define"))
        macros.append((name, value if eq else "1"))
    return HeaderOptions(tuple(dirs), tuple(macros))


# --- loading ----------------------------------------------------------------

_STRS = {"type": "array", "items": {"type": "string"}}
_MAP_OF_STR = {"type": "object", "additionalProperties": {"type": "string"}}

# The profile format, checked with jsonschema like the spec and OS profiles.
PROFILE_SCHEMA = obj(
    ["name", "package", "locate", "detect", "request_kinds"],
    name=TEXT, description=TEXT, package=TEXT, locate=_STRS,
    detect=obj([], require=_STRS, forbid=_STRS),
    include_dirs=_STRS, companions=_STRS, stubs=_MAP_OF_STR, prelude=TEXT,
    defines={"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
    abi_defines={"type": "object", "propertyNames": {"enum": list(ABIS)},
                 "additionalProperties": {"type": "object",
                                          "additionalProperties": {"type": ["string", "integer"]}}},
    request_kinds={"type": "object", "additionalProperties": obj(["struct"], struct=TEXT, select=_MAP_OF_STR)},
    padding=TEXT, node_docs={"type": "boolean"}, canonical={"type": "boolean"},
)


def _parse(path: str) -> Profile:
    try:
        text = read_bounded(path)     # a YAML profile: a regular file of bounded size
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"cannot read header profile: {getattr(e, 'strerror', None) or e}", Mark(path)) from None
    doc = load_text(text, path)
    if not isinstance(doc.data, dict):
        raise error("a header profile must be a mapping", Mark(path, 1, 1))
    diags = Collector()
    for best in violations(PROFILE_SCHEMA, doc):
        msg, where = describe_error(best, False)
        mark = doc.key_mark(where) if best.validator == "additionalProperties" else doc.mark(where)
        diags.error(msg, mark, "header profile")
    diags.raise_if_errors()
    data = doc.data
    detect = data["detect"]
    require, forbid = tuple(detect.get("require", ())), tuple(detect.get("forbid", ()))
    padding = data.get("padding", r"^_?_?pad")
    for rx, at in [(r, ("detect", "require")) for r in require] + \
                  [(r, ("detect", "forbid")) for r in forbid] + [(padding, ("padding",))]:
        try:
            re.compile(rx)
        except re.error as e:
            raise error(f"bad regex {rx!r}: {e}", doc.mark(at)) from None
    common = {str(k): str(v) for k, v in data.get("defines", {}).items()}
    per_abi = data.get("abi_defines", {})
    return Profile(
        name=data["name"], description=data.get("description", ""), file=path,
        package=data["package"], locate=tuple(data["locate"]),
        detect_require=require, detect_forbid=forbid,
        include_dirs=tuple(data.get("include_dirs", ())), companions=tuple(data.get("companions", ())),
        stubs=MappingProxyType(dict(data.get("stubs", {}))),
        abi_defines=MappingProxyType({
            abi: MappingProxyType({**common, **{str(k): str(v) for k, v in per_abi.get(abi, {}).items()}})
            for abi in ABIS if common or abi in per_abi}),
        request_kinds=MappingProxyType({
            kind: RequestKind(kind, k["struct"], MappingProxyType(dict(k.get("select", {}))))
            for kind, k in data["request_kinds"].items()}),
        padding=padding, node_docs=data.get("node_docs", False), canonical=data.get("canonical", False),
        prelude=data.get("prelude", ""),
    )


def _natural(s: str) -> list:
    """Sort key putting linux-headers-6.10 after 6.9."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name: str) -> Profile:
    """A profile by name (specs/headers/NAME.yaml) or by path to a YAML file."""
    if name.endswith((".yaml", ".yml")) or os.sep in name:
        return _parse(name)
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise error(f"unknown header profile '{name}' (known: {', '.join(profile_names())})")
    return _parse(str(path))


def all_profiles() -> list[Profile]:
    return [load_profile(n) for n in profile_names()]


def detect_installed() -> list[tuple[Profile, str]]:
    """(profile, header path) for each copy installed here, newest first per profile."""
    found = []
    for prof in all_profiles():
        paths: set[str] = set()
        for pattern in prof.locate:
            paths.update(p for p in glob.glob(pattern) if os.path.isfile(p))
        found.extend((prof, p) for p in sorted(paths, key=_natural, reverse=True))
    return found


def profile_for(header: str, text: str | None = None) -> Profile:
    """The profile whose detection markers fit the header's content."""
    if text is None:
        text = read_header(header)
    fits = [p for p in all_profiles() if p.matches(text)]
    if len(fits) != 1:
        why = "no header profile fits" if not fits else \
            "several header profiles fit (" + ", ".join(p.name for p in fits) + ")"
        known = ", ".join(profile_names())
        inc = _BLKIF_INCLUDE.search(text) if not fits else None
        if inc:
            # A file built on blkif.h (QEMU's hw/block/xen_blkif.h: per-ABI
            # backend structs around the real header) is not a copy of it.
            line = text.count("\n", 0, inc.start()) + 1
            raise error(f"{why}: this is not a copy of blkif.h, it includes one "
                        f"({inc.group(0).strip()}); compare that copy "
                        f"(or name a profile: {known})", Mark(header, line, 1))
        raise error(f"{why}; name one (known: {known})", Mark(header))
    return fits[0]


# An #include of some blkif.h, in a file that is not a copy of it.
_BLKIF_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"][^>"\n]*\bblkif\.h[>"]', re.M)


def read_header(header: str, profile: Profile | None = None) -> str:
    """The header's text, or a clean error saying which package installs it."""
    try:
        return Path(header).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        hint = f" (install it with: apt-get install {profile.package})" if profile else ""
        raise error(f"header not found: {header}{hint}", Mark(header)) from None
    except OSError as e:
        raise error(f"cannot read header: {e.strerror}", Mark(header)) from None
