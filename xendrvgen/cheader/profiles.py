"""Header profiles: every per-header detail, kept in specs/headers/*.yaml.

A profile says where a copy of blkif.h is installed, how to preprocess it
(include dirs, stub headers, per-ABI macros), how its request kinds map onto
its structs, and what its comments hold.  The rest of the package reads
headers only through a profile, so no header gets a special case in code.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from ..diagnostics import Mark, error
from .abi import ABIS

PROFILE_DIR = Path(__file__).resolve().parents[2] / "specs" / "headers"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when built with it: faster


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


# --- loading ----------------------------------------------------------------

# key -> (python type, required); checked by hand: a profile is a few keys.
_KEYS: dict[str, tuple[type, bool]] = {
    "name": (str, True), "description": (str, False), "package": (str, True),
    "locate": (list, True), "detect": (dict, True), "include_dirs": (list, False),
    "companions": (list, False), "stubs": (dict, False), "abi_defines": (dict, False),
    "request_kinds": (dict, True), "padding": (str, False), "node_docs": (bool, False),
    "canonical": (bool, False),
}


def _mark(file: str, node: yaml.Node | None) -> Mark:
    if node is None:
        return Mark(file)
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _read_yaml(path: str) -> tuple[Any, yaml.Node | None]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise error(f"cannot read header profile: {e.strerror}", Mark(path)) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        m = getattr(e, "problem_mark", None)
        where = Mark(path, m.line + 1, m.column + 1) if m else Mark(path)
        raise error(f"malformed YAML: {getattr(e, 'problem', None) or e}", where) from None
    finally:
        loader.dispose()
    return data, node


def _parse(path: str) -> Profile:
    data, root = _read_yaml(path)
    if not isinstance(data, dict):
        raise error("a header profile must be a mapping", _mark(path, root))
    for key in data:
        if key not in _KEYS:
            raise error(f"unknown key '{key}' in header profile", _mark(path, _child(root, key)))
    for key, (typ, required) in _KEYS.items():
        if key not in data:
            if required:
                raise error(f"header profile lacks '{key}'", _mark(path, root))
        elif not isinstance(data[key], typ):
            raise error(f"'{key}' must be a {typ.__name__}", _mark(path, _child(root, key)))

    def strs(value: Any, node: yaml.Node | None, what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise error(f"'{what}' must be a list of strings", _mark(path, node))
        return tuple(value)

    detect_node = _child(root, "detect")
    detect = data["detect"]
    require = strs(detect.get("require", []), _child(detect_node, "require"), "detect.require")
    forbid = strs(detect.get("forbid", []), _child(detect_node, "forbid"), "detect.forbid")
    padding = data.get("padding", r"^_?_?pad")
    for rx, node in [(r, _child(detect_node, "require")) for r in require] + \
                    [(r, _child(detect_node, "forbid")) for r in forbid] + \
                    [(padding, _child(root, "padding"))]:
        try:
            re.compile(rx)
        except re.error as e:
            raise error(f"bad regex {rx!r}: {e}", _mark(path, node)) from None

    abi_node = _child(root, "abi_defines")
    abi_defines = {}
    for abi, macros in data.get("abi_defines", {}).items():
        if abi not in ABIS:
            raise error(f"unknown ABI '{abi}' (known: {', '.join(ABIS)})", _mark(path, _child(abi_node, abi)))
        if not isinstance(macros, dict):
            raise error("ABI defines must map macro names to values", _mark(path, _child(abi_node, abi)))
        abi_defines[abi] = MappingProxyType({str(k): str(v) for k, v in macros.items()})

    kinds_node = _child(root, "request_kinds")
    kinds = {}
    for kind, spec in data["request_kinds"].items():
        knode = _child(kinds_node, kind)
        if not isinstance(spec, dict) or not isinstance(spec.get("struct"), str) \
                or not isinstance(spec.get("select", {}), dict) or set(spec) - {"struct", "select"}:
            raise error("a request kind is {struct: NAME, select: {UNION_FIELD: MEMBER}}", _mark(path, knode))
        select = {str(k): str(v) for k, v in spec.get("select", {}).items()}
        kinds[kind] = RequestKind(kind, spec["struct"], MappingProxyType(select))

    stubs = data.get("stubs", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in stubs.items()):
        raise error("'stubs' maps include paths to stub text", _mark(path, _child(root, "stubs")))

    return Profile(
        name=data["name"], description=data.get("description", ""), file=path,
        package=data["package"],
        locate=strs(data["locate"], _child(root, "locate"), "locate"),
        detect_require=require, detect_forbid=forbid,
        include_dirs=strs(data.get("include_dirs", []), _child(root, "include_dirs"), "include_dirs"),
        companions=strs(data.get("companions", []), _child(root, "companions"), "companions"),
        stubs=MappingProxyType(dict(stubs)), abi_defines=MappingProxyType(abi_defines),
        request_kinds=MappingProxyType(kinds), padding=padding,
        node_docs=data.get("node_docs", False),
        canonical=data.get("canonical", False),
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
        raise error(f"{why}; name one (known: {', '.join(profile_names())})", Mark(header))
    return fits[0]


def read_header(header: str, profile: Profile | None = None) -> str:
    """The header's text, or a clean error saying which package installs it."""
    try:
        return Path(header).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        hint = f" (install it with: apt-get install {profile.package})" if profile else ""
        raise error(f"header not found: {header}{hint}", Mark(header)) from None
    except OSError as e:
        raise error(f"cannot read header: {e.strerror}", Mark(header)) from None
