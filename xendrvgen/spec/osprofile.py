"""OS profiles: everything that differs between the operating systems.

A profile (`specs/os/<os>.yaml`) says how one OS spells the protocol: its
names for the fixed-width types, the C condition that selects each ABI, code
style (indentation, comment form, preamble lines), header guards and include
lines, how requests are declared (Xen's separate structs or Linux's union),
the assertion and inline spellings its kernel uses, the C dialects its
headers must compile in, what a standalone compile test must provide, and the
list of files rendered for it (`outputs`: template and path).  Adding a file
for an OS, such as a driver template, is one more entry in `outputs`.

Profiles are checked with a JSON Schema (`PROFILE_SCHEMA`), so a mistake is
reported with file:line:col like any spec error.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from xendrvgen.base.diagnostics import Collector, Mark, SpecError, error
from xendrvgen.base.yamldoc import Document, load_text, read_bounded
from .model import did_you_mean
from xendrvgen.base.paths import PROFILES_DIR, profile_names, shown
from .schema import ABI_NAME, NAME, TEXT, describe_error, array_of, obj, violations

C_TYPE_KEYS = ("uint8_t", "int8_t", "uint16_t", "int16_t", "uint32_t", "int32_t",
               "uint64_t", "int64_t", "char", "unsigned int", "void")
HEADER_ROLES = ("blkif", "abi", "nodes")
DIALECTS = {
    # name -> (language, flags)
    "c89": ("c", ("-ansi",)),
    "c99": ("c", ("-std=c99",)),
    "c11": ("c", ("-std=c11",)),
    "gnu89": ("c", ("-std=gnu89",)),
    "gnu99": ("c", ("-std=gnu99",)),
    "gnu11": ("c", ("-std=gnu11",)),
    "c++98": ("c++", ("-std=c++98",)),
    "c++11": ("c++", ("-std=c++11",)),
    "c++17": ("c++", ("-std=c++17",)),
}
COMMENT_STYLES = ("block", "line")
BANNER_STYLES = ("block", "edk2", "hash")

_STR = {"type": "string"}
_HEADER = obj(["guard", "includes", "include_as"],
              guard=NAME, includes=array_of(_STR), include_as=TEXT)
_OUTPUT = obj(["template", "path"], template=TEXT, path=TEXT, header={"enum": list(HEADER_ROLES)},
              banner={"enum": list(BANNER_STYLES)})
_UNION_KIND = obj(["name", "struct"], name=NAME, struct=NAME,
                  fields=array_of(NAME, minItems=1, uniqueItems=True))

PROFILE_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://xendrvgen.invalid/os-profile.schema.json",
    "title": "xendrvgen OS profile",
    **obj(
        ["name", "title", "types", "abi_macros", "style", "typedefs", "requests",
         "c", "headers", "dialects", "standalone", "outputs"],
        name={"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        title=TEXT,
        description=TEXT,
        types=obj(list(C_TYPE_KEYS), **{k: TEXT for k in C_TYPE_KEYS}, const=TEXT),
        abi_macros={"type": "object", "propertyNames": ABI_NAME,
                    "additionalProperties": TEXT, "minProperties": 1},
        style=obj(["indent", "comments", "banner"],
                  indent={"oneOf": [{"const": "tab"}, {"type": "integer", "minimum": 1, "maximum": 8}]},
                  comments={"enum": list(COMMENT_STYLES)},
                  banner={"enum": list(BANNER_STYLES)},
                  align_fields={"type": "boolean"},
                  functions={"enum": ["linux", "bsd", "edk2"]},
                  braces={"enum": ["needed", "always"]},
                  width={"type": "integer", "minimum": 40, "maximum": 200},
                  preamble=array_of(_STR),
                  banner_extra=array_of(_STR)),
        typedefs={"enum": ["typedef", "define"]},
        requests=obj(["layout"], layout={"enum": ["separate", "union"]},
                     union=obj(["member", "kinds"], member=NAME,
                               kinds=array_of(_UNION_KIND, minItems=1))),
        pack={"type": "object", "propertyNames": ABI_NAME,
              "additionalProperties": {"enum": [1, 2, 4, 8]}},
        c=obj(["static_assert", "alignof", "offsetof", "inline", "packed", "aligned"],
              static_assert=TEXT, alignof=TEXT, offsetof=TEXT, inline=TEXT,
              read_once={"type": "string", "pattern": r"\{\}"},
              packed=TEXT, aligned={"type": "string", "pattern": r"\{\}"},
              functions=obj(["get_request", "put_response"],
                            get_request=TEXT, put_response=TEXT),
              locals=obj(["dst", "src", "index"], dst=NAME, src=NAME, index=NAME),
              params=obj(["in", "out"], **{"in": _STR, "out": _STR})),
        headers=obj(list(HEADER_ROLES), **{r: _HEADER for r in HEADER_ROLES}),
        dialects=array_of({"enum": list(DIALECTS)}, minItems=1, uniqueItems=True),
        standalone=obj([], include_dirs=array_of(_STR), system_include_dirs=array_of(_STR),
                       stub_include_dirs=array_of(_STR),
                       stubs={"type": "object", "additionalProperties": _STR},
                       prelude=_STR),
        outputs=array_of(_OUTPUT, minItems=1),
        kernel_api={"type": "object", "propertyNames": NAME,
                    "additionalProperties": obj(["since", "what"],
                                                since={"type": "string", "pattern": r"^[0-9]{1,2}\.[0-9]{1,3}\Z"},
                                                what=TEXT)},
    ),
}


@dataclass(frozen=True)
class HeaderConf:
    guard: str
    includes: tuple
    include_as: str


@dataclass(frozen=True)
class Output:
    template: str
    path: str                  # POSIX path relative to the OS's output directory
    header: str | None         # role among HEADER_ROLES, for the three protocol headers
    banner: str | None         # comment form of the banner; None: by file type
    mark: Mark


@dataclass(frozen=True)
class UnionKind:
    name: str                  # union member name (rw, discard, other, indirect)
    struct: str                # spec struct whose layout it carries
    fields: tuple | None       # only these fields (None: all but the first)


@dataclass(frozen=True)
class Standalone:
    include_dirs: tuple        # relative to the OS's output directory
    system_include_dirs: tuple  # absolute; searched after the compiler's own headers
    stub_include_dirs: tuple   # relative to the directory holding the stubs (default: itself)
    stubs: Mapping             # include path -> content
    prelude: str               # what the includer provides before the header


@dataclass(frozen=True)
class OsProfile:
    name: str
    title: str
    description: str
    file: str
    types: Mapping
    abi_macros: Mapping
    indent: str
    comments: str
    banner: str
    align_fields: bool
    function_style: str        # linux: one line; bsd: type on its own line; edk2: one param a line
    braces: str                # needed: a one-statement loop has none; always: EDK2's rule
    width: int
    preamble: tuple
    banner_extra: tuple        # lines added inside the banner (e.g. a license line)
    typedefs: str
    request_layout: str
    union_member: str | None
    union_kinds: tuple
    pack: Mapping
    c: Mapping                 # spellings: static_assert, alignof, offsetof, inline, ...
    headers: Mapping           # role -> HeaderConf
    dialects: tuple
    standalone: Standalone
    outputs: tuple
    mark: Mark
    # Kernel API changes the templates branch on: name -> ((major, minor), what changed).
    kernel_api: Mapping = field(default_factory=lambda: MappingProxyType({}))

    def type(self, c_type: str) -> str:
        return self.types[c_type]

    def abi_condition(self, abis) -> str:
        """C condition true when compiling for any of `abis`."""
        conds = [self.abi_macros[a] for a in abis if a in self.abi_macros]
        return " || ".join(conds) if conds else "0"

    def since(self, change: str) -> str:
        """C condition true on kernels that have the API change `change` of
        the profile's kernel_api table (the one place versions are written)."""
        if change not in self.kernel_api:
            raise KeyError(f"OS profile '{self.name}' has no kernel_api entry '{change}'")
        (major, minor), _ = self.kernel_api[change]
        return f"LINUX_VERSION_CODE >= KERNEL_VERSION({major}, {minor}, 0)"

    def release(self, change: str) -> str:
        """The release of a kernel_api change, as the table writes it ("6.1")."""
        self.since(change)
        return "%d.%d" % self.kernel_api[change][0]

    def output_for(self, role: str) -> Output | None:
        return next((o for o in self.outputs if o.header == role), None)

    @property
    def portable_asserts(self) -> bool:
        return self.c["static_assert"] == "portable"


_DEFAULT_C = {
    "read_once": None,
    "functions": {"get_request": "blkif_get_{variant}_req", "put_response": "blkif_put_{variant}_rsp"},
    "locals": {"dst": "dst", "src": "src", "index": "i"},
    "params": {"in": "", "out": ""},
}


def _safe_relpath(path: str) -> bool:
    if not path or path.startswith("/") or "\\" in path:
        return False
    norm = posixpath.normpath(path)
    return not (norm == ".." or norm.startswith("../") or norm == ".")


def _build(doc: Document) -> OsProfile:
    d = doc.data
    diags = Collector()
    ctx = f"OS profile '{d['name']}'"
    st = d["style"]
    indent = "\t" if st["indent"] == "tab" else " " * st["indent"]
    outputs = []
    seen_paths: dict = {}
    for i, o in enumerate(d["outputs"]):
        m = doc.mark(("outputs", i))
        path = o["path"]
        if not _safe_relpath(path):
            diags.error(f"output path '{path}' must be relative and stay inside the output directory",
                        doc.mark(("outputs", i, "path")), ctx)
            continue
        path = posixpath.normpath(path)
        if path in seen_paths:
            diags.error(f"output path '{path}' is listed twice (first at line {seen_paths[path].line})",
                        doc.mark(("outputs", i, "path")), ctx)
        seen_paths[path] = m
        if not _safe_relpath(o["template"]):
            diags.error(f"template '{o['template']}' must be a relative path inside templates/",
                        doc.mark(("outputs", i, "template")), ctx)
        outputs.append(Output(o["template"], path, o.get("header"), o.get("banner"), m))
    roles = [o.header for o in outputs if o.header]
    for role in HEADER_ROLES:
        if roles.count(role) > 1:
            diags.error(f"more than one output renders the '{role}' header", doc.mark(("outputs",)), ctx)
    req = d["requests"]
    union_kinds = ()
    if req["layout"] == "union":
        if "union" not in req:
            diags.error("requests.layout 'union' needs requests.union (member and kinds)",
                        doc.mark(("requests",)), ctx)
        else:
            union_kinds = tuple(UnionKind(k["name"], k["struct"], tuple(k["fields"]) if "fields" in k else None)
                                for k in req["union"]["kinds"])
    c = {**_DEFAULT_C, **d["c"]}
    sa = d.get("standalone", {})
    for i, inc in enumerate(sa.get("include_dirs", ())):
        if not _safe_relpath(inc):
            diags.error(f"standalone include dir '{inc}' must be relative to the OS's output directory",
                        doc.mark(("standalone", "include_dirs", i)), ctx)
    for i, inc in enumerate(sa.get("stub_include_dirs", ())):
        if not _safe_relpath(inc):
            diags.error(f"standalone include dir '{inc}' must be relative to the OS's output directory",
                        doc.mark(("standalone", "include_dirs", i)), ctx)
    diags.raise_if_errors()
    return OsProfile(
        name=d["name"], title=d["title"], description=d.get("description", ""), file=doc.file,
        types=MappingProxyType(dict(d["types"])), abi_macros=MappingProxyType(dict(d["abi_macros"])),
        indent=indent, comments=st["comments"], banner=st["banner"],
        align_fields=st.get("align_fields", True), function_style=st.get("functions", "linux"),
        braces=st.get("braces", "needed"),
        width=st.get("width", 80),
        preamble=tuple(st.get("preamble", ())), banner_extra=tuple(st.get("banner_extra", ())),
        typedefs=d["typedefs"],
        request_layout=req["layout"], union_member=req.get("union", {}).get("member"),
        union_kinds=union_kinds, pack=MappingProxyType(dict(d.get("pack", {}))),
        c=MappingProxyType(c),
        headers=MappingProxyType({r: HeaderConf(h["guard"], tuple(h["includes"]), h["include_as"])
                                  for r, h in d["headers"].items()}),
        dialects=tuple(d["dialects"]),
        standalone=Standalone(tuple(sa.get("include_dirs", ())), tuple(sa.get("system_include_dirs", ())),
                              tuple(sa.get("stub_include_dirs", ("",))),
                              MappingProxyType(dict(sa.get("stubs", {}))), sa.get("prelude", "")),
        outputs=tuple(outputs), mark=doc.mark(()),
        kernel_api=MappingProxyType({k: (tuple(int(x) for x in v["since"].split(".")), v["what"])
                                     for k, v in d.get("kernel_api", {}).items()}),
    )


def loads(text: str, file: str) -> OsProfile:
    """Parse and check one profile; SpecError (file:line:col) when it is wrong."""
    doc = load_text(text, file)
    diags = Collector()
    if not isinstance(doc.data, dict):
        raise error("an OS profile must be a mapping", Mark(file, 1, 1))
    for best in violations(PROFILE_SCHEMA, doc):
        msg, path = describe_error(best, False)
        if "propertyNames" in best.schema_path and best.validator == "enum":
            where = ".".join(str(p) for p in best.absolute_path) or "the document"
            msg = (f"{where} has unknown key {best.instance!r}; valid keys are: "
                   f"{', '.join(map(str, best.validator_value))}")
            path = tuple(best.absolute_path) + (best.instance,)
        mark = doc.key_mark(path) if best.validator == "additionalProperties" else doc.mark(path)
        diags.error(msg, mark, "OS profile")
    diags.raise_if_errors()
    return _build(doc)


def load(path: str | Path) -> OsProfile:
    path = Path(path)
    try:
        text = read_bounded(path)     # a regular file of bounded size
    except FileNotFoundError:
        raise error("OS profile not found", Mark(shown(path))) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read OS profile: {exc}", Mark(shown(path))) from None
    prof = loads(text, shown(path))
    if prof.name != path.stem:
        raise error(f"profile name '{prof.name}' does not match its file name '{path.name}'",
                    prof.mark, "OS profile")
    return prof


def available(profiles_dir: str | Path = PROFILES_DIR) -> list[str]:
    """OS names with a profile, sorted."""
    return profile_names(profiles_dir)


def load_many(names: list[str] | None = None, profiles_dir: str | Path = PROFILES_DIR) -> list[OsProfile]:
    """Profiles by name (default: every profile), in the order asked; all errors at once."""
    known = available(profiles_dir)
    if not known:
        raise error(f"no OS profiles found in {profiles_dir}", Mark(str(profiles_dir)))
    wanted = known if not names else list(dict.fromkeys(names))
    bad = [n for n in wanted if n not in known]
    if bad:
        raise SpecError([error(f"unknown OS '{n}'{did_you_mean(n, known)}; known: {', '.join(known)}")
                         .diagnostics[0] for n in bad])
    out, diags = [], []
    for n in wanted:
        try:
            out.append(load(Path(profiles_dir) / f"{n}.yaml"))
        except SpecError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise SpecError(diags)
    return out
