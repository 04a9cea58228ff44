"""OS API contracts: the kernel interfaces the driver templates rely on.

`contracts/<os>/include/` holds, per OS, headers that declare exactly the
kernel API surface the generated drivers use, with the signatures of that
OS's own tree; `contracts/<os>/contract.yaml` says where the tree keeps each
one.  The cross compile tests build against them when no real tree is at
hand.

`verify(os, tree)` keeps them honest: it parses every contract header and the
tree's counterpart with libclang (after preprocessing, in the same kernel
context: target, defines, system headers), and compares each declaration of
the contract with the tree's declaration of the same name: a function's
return and parameter types, a struct's or union's members and their types
(in order), a typedef's underlying type, an enum's constants and values, a
macro's replacement text, an extern variable's type.  Types are compared in
canonical form (typedefs resolved), so a contract may spell a type another
way as long as it is the same type.  Each difference is reported with both
values and both locations, each named in the tree's own files (a path through
an include link of the work directory is followed to its file; a generated
method header is named by its .m file).

The comparison is typedef-aware: when a typedef both sides declare names a
struct whose tag differs (FreeBSD 14's `typedef struct _device *device_t`,
`struct device` before), the tags are taken as one type everywhere, and the
rename is reported once as a note instead of as a difference in every
signature that passes a device_t.

The tree is read as its kernel build reads it: the include directories, links,
option headers and defines of the compile runners' --tree mode
(`xendrvgen.compile.freebsd.tree_includes`, `netbsd.tree_includes`).

A manifest entry with `upstream: <path>` is a contract header that defers to
an installed upstream header (Xen's public io/ring.h, of which the OS trees
carry copies): the contract header only supplies what the includer must and
includes the upstream one, so the upstream header's declarations are what is
compared with the tree's copy.  Of those, the names listed in `uses` (what
the generated code relies on) must be in the tree's copy; a copy's other
differences from upstream (older or newer Xen releases, an OS port's
spelling) are reported as notes.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from xendrvgen.base import paths

CONTRACTS_DIR = paths.ROOT / "contracts"
KNOWN = ("freebsd", "netbsd", "edk2", "openbsd")


class ContractError(Exception):
    """Bad input: unknown OS, missing tree, libclang or toolchain missing."""


@dataclass
class Decl:
    name: str
    kind: str            # function | struct | union | typedef | enum | macro | var
    value: object        # normalised comparable form
    where: str           # file:line


@dataclass
class Finding:
    header: str
    name: str
    kind: str
    status: str          # ok | differs | missing | note
    contract: str = ""
    tree: str = ""
    contract_at: str = ""
    tree_at: str = ""
    detail: str = ""


@dataclass
class Report:
    os: str
    tree: str
    findings: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.status in ("differs", "missing") for f in self.findings)

    def counts(self) -> dict:
        out: dict = {}
        for f in self.findings:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    def render(self, fmt: str = "text") -> str:
        if fmt == "json":
            return json.dumps({"os": self.os, "tree": self.tree, "failed": self.failed,
                               "counts": self.counts(), "findings": [asdict(f) for f in self.findings]},
                              indent=2)
        lines = [f"contract verify: {self.os} against {self.tree}"]
        for f in self.findings:
            if f.status == "ok":
                continue
            head = f"{f.contract_at or f.header}: {f.status}: {f.kind} '{f.name}'"
            if f.detail:
                head += f": {f.detail}"
            lines.append(head)
            if f.status == "differs":
                lines.append(f"    contract: {f.contract}")
                lines.append(f"    tree:     {f.tree}" + (f"   ({f.tree_at})" if f.tree_at else ""))
        c = self.counts()
        lines.append(f"{c.get('ok', 0)} declarations match, {c.get('differs', 0)} differ, "
                     f"{c.get('missing', 0)} missing from the tree, {c.get('note', 0)} notes")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------
def manifest(os_name: str) -> dict:
    if os_name not in KNOWN and not (CONTRACTS_DIR / os_name / "contract.yaml").is_file():
        raise ContractError(f"no contract for OS '{os_name}' (known: {', '.join(KNOWN)})")
    path = CONTRACTS_DIR / os_name / "contract.yaml"
    if not path.is_file():
        raise ContractError(f"{path}: contract manifest missing")
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data["_dir"] = CONTRACTS_DIR / os_name
    return data


def contract_headers(os_name: str) -> list[dict]:
    return manifest(os_name)["headers"]


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
def _cindex():
    try:
        import clang.cindex as ci
    except ImportError:
        raise ContractError("libclang is not installed (install it with: pip install libclang)") from None
    return ci


def _system_includes(man: dict) -> list[Path]:
    if man["os"] in ("freebsd", "netbsd") or man.get("toolchain") == "zig":
        from . import _zig
        try:
            return _zig.system_includes(man["target"].replace("x86_64-", "x86_64-", 1))
        except Exception as exc:  # ToolchainMissing
            raise ContractError(str(exc)) from None
    return []


def _args(man: dict, includes: list[Path], after: list[Path] = (), extra: list[str] = ()) -> list[str]:
    target = {"x86_64-freebsd": "x86_64-unknown-freebsd14.0",
              "x86_64-netbsd": "x86_64-unknown-netbsd10.0"}.get(man["target"], man.get("clang_target", man["target"]))
    args = ["-x", "c", "-std=gnu11", f"--target={target}", "-nostdinc", "-ffreestanding",
            *man.get("flags", []), *[f"-D{d}" for d in man.get("defines", [])], *extra]
    for d in includes:
        args += ["-I", str(d)]
    for d in _system_includes(man):
        args += ["-isystem", str(d)]
    for d in after:
        args += ["-idirafter", str(d)]
    return args


def _norm(text: str) -> str:
    return " ".join(text.split())


# An anonymous struct or union type is spelled with the place that declares it
# ("struct s::(unnamed at /path/x.h:29:2)"), which differs between the contract
# and the tree even when the types agree; compare it without the place.
_UNNAMED = __import__("re").compile(r"\((unnamed|anonymous)( struct| union)? at [^)]*\)")

# A backslash-newline that libclang leaves in a token's spelling.
_SPLICE = __import__("re").compile(r"\\[ \t]*\r?\n")


def _ctype(t) -> str:
    return _UNNAMED.sub(r"(\1\2)", _norm(t.get_canonical().spelling))


_INT = __import__("re").compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*$")


def _function_like(c) -> bool:
    toks = list(c.get_tokens())
    return (len(toks) > 1 and toks[1].spelling == "("
            and toks[1].extent.start.offset == toks[0].extent.end.offset)


def _macro_table(tu) -> dict:
    """Object-like macros of the whole translation unit: name -> tokens."""
    K = _cindex().CursorKind
    table = {}
    for c in tu.cursor.get_children():
        if c.kind == K.MACRO_DEFINITION and not _function_like(c):
            table[c.spelling] = [_SPLICE.sub("", t.spelling) for t in c.get_tokens()][1:]
    return table


def _expand(tokens: list, table: dict, depth: int = 0, seen: frozenset = frozenset()) -> str:
    """Expand object-like macros and normalise integer literals, so that two
    spellings of one value (SIZE_4KB and 0x1000) compare equal."""
    out = []
    for t in tokens:
        if t in table and t not in seen and depth < 16:
            out.append(_expand(table[t], table, depth + 1, seen | {t}))
        elif _INT.match(t):
            lit = t.rstrip("uUlL")
            out.append(str(int(lit, 16) if lit[:2] in ("0x", "0X") else int(lit, 8) if lit.startswith("0") and lit != "0" else int(lit)))
        else:
            out.append(t)
    return _norm(" ".join(out))


def _collect(tu, keep) -> dict[str, Decl]:
    """Declarations (and macro definitions) whose file satisfies keep(path)."""
    ci = _cindex()
    K = ci.CursorKind
    out: dict[str, Decl] = {}
    anon_typedefs = {}
    table = _macro_table(tu)

    def where(c) -> str:
        loc = c.location
        return f"{loc.file.name}:{loc.line}" if loc.file else "?"

    def add(d: Decl):
        old = out.get(d.name)
        # A definition wins over a forward declaration.
        if old is None or (old.kind in ("struct", "union") and not old.value and d.value) or old.kind == d.kind == "function":
            out[d.name] = d

    for c in tu.cursor.get_children():
        f = c.location.file
        if f is None or not keep(f.name):
            continue
        k = c.kind
        if k == K.MACRO_DEFINITION:
            # Comments inside a macro body are not part of its replacement text.
            # libclang may spell a token with the line continuation before it
            # ("\\\n}"); the continuation is not part of the token.
            toks = [_SPLICE.sub("", t.spelling) for t in c.get_tokens()
                    if t.kind.name != "COMMENT"][1:]
            if _function_like(c):
                value = _norm(" ".join(toks))
            else:
                value = _expand(toks, table, 0, frozenset({c.spelling}))
            add(Decl(c.spelling, "macro", value, where(c)))
        elif k == K.FUNCTION_DECL:
            t = c.type
            params = [_ctype(a) for a in t.argument_types()] if t.kind.name == "FUNCTIONPROTO" else []
            var = t.is_function_variadic() if t.kind.name == "FUNCTIONPROTO" else False
            sig = f"{_ctype(t.get_result())} ({', '.join(params + (['...'] if var else []))})"
            add(Decl(c.spelling, "function", sig, where(c)))
        elif k in (K.STRUCT_DECL, K.UNION_DECL):
            kind = "struct" if k == K.STRUCT_DECL else "union"
            members = [(m.spelling, _ctype(m.type)) for m in c.get_children() if m.kind == K.FIELD_DECL]
            name = c.spelling
            if not name or c.is_anonymous():
                anon_typedefs[c.hash] = (kind, members, where(c))
                continue
            name = name.replace("struct ", "").replace("union ", "")
            add(Decl(name, kind, members if c.is_definition() else [], where(c)))
        elif k == K.ENUM_DECL:
            for e in c.get_children():
                if e.kind == K.ENUM_CONSTANT_DECL:
                    add(Decl(e.spelling, "enumerator", e.enum_value, where(e)))
        elif k == K.TYPEDEF_DECL:
            under = c.underlying_typedef_type
            decl = under.get_canonical().get_declaration()
            if decl is not None and decl.hash in anon_typedefs:
                kind, members, w = anon_typedefs[decl.hash]
                add(Decl(c.spelling, kind, members, w))
            add(Decl(c.spelling, "typedef", _ctype(under), where(c)))
        elif k == K.VAR_DECL:
            add(Decl(c.spelling, "var", _ctype(c.type), where(c)))
    return out


def _parse(path: Path, man: dict, includes: list[Path], prelude: list[str], after: list[Path] = (),
           extra: list[str] = ()):
    ci = _cindex()
    src = "".join(f"#include <{p}>\n" for p in prelude) + f'#include "{path}"\n'
    with tempfile.TemporaryDirectory() as td:
        main = Path(td) / "contract_probe.c"
        main.write_text(src)
        idx = ci.Index.create()
        opts = ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD | ci.TranslationUnit.PARSE_INCOMPLETE
        try:
            return idx.parse(str(main), args=_args(man, includes, after, extra), options=opts)
        except ci.TranslationUnitLoadError as exc:
            raise ContractError(f"{path}: libclang could not parse it: {exc}") from None


# ---------------------------------------------------------------------------
# Tree side per OS
# ---------------------------------------------------------------------------
def _tree_includes(man: dict, tree: Path, work: Path) -> tuple[list[Path], list[str]]:
    """The tree's include directories and extra flags, as its kernel build has them."""
    os_name = man["os"]
    if os_name == "freebsd":
        from . import LocalRunner, freebsd
        log = freebsd.generate_method_headers(tree, work / "methods", LocalRunner())
        if log:
            raise ContractError(log)
        return freebsd.tree_includes(tree, work, man["target"]), list(freebsd.TREE_FLAGS)
    if os_name == "netbsd":
        from . import netbsd
        return netbsd.tree_includes(tree, work, man["target"]), list(netbsd.TREE_FLAGS)
    links = man.get("tree_links", {})   # a port's manifest: name -> directory of the tree
    if links:
        inc = work / "links"
        inc.mkdir(parents=True, exist_ok=True)
        for name, rel in links.items():
            if (tree / rel).is_dir() and not (inc / name).exists():
                (inc / name).symlink_to(tree / rel)
    return ([work / "links"] if links else []) + [tree / d for d in man.get("tree_include", [])], []


def _tree_files(man: dict, h: dict, tree: Path, work: Path) -> list[Path]:
    rels = h["tree"] if isinstance(h["tree"], list) else [h["tree"]]
    if h.get("kind") == "method":
        return [work / "methods" / Path(h["path"]).name]
    return [tree / r for r in rels]


def _upstream(h: dict, work: Path) -> tuple[Path, Path]:
    """For a header that defers to an installed upstream one: (its real path, the -idirafter directory)."""
    from . import CompileError, _cbuild
    try:
        inc = _cbuild.xen_public_include(work)
        return (_cbuild.xen_public_dir() / h["upstream"]).resolve(), inc
    except CompileError as exc:
        raise ContractError(str(exc)) from None


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b
    except OSError:
        return False


def verify(os_name: str, tree: str | Path) -> Report:
    man = manifest(os_name)
    tree_p = Path(tree).resolve()
    if not tree_p.is_dir():
        raise ContractError(f"{tree}: not a directory (--tree wants a {os_name} source tree)")
    probe = man.get("probe") or {"freebsd": "sys/sys/bus.h", "netbsd": "sys/sys/device.h",
                                 "edk2": "MdePkg/Include/Uefi.h"}.get(os_name)
    if not probe:
        raise ContractError(f"contracts/{os_name}/contract.yaml names no probe (a file every {os_name} tree has)")
    if not (tree_p / probe).is_file():
        raise ContractError(f"{tree}: not a {os_name} source tree ({probe} is missing)")
    cdir = man["_dir"] / "include"
    report = Report(os_name, str(tree_p))
    with tempfile.TemporaryDirectory() as td:
        work = Path(td)
        t_inc, t_extra = _tree_includes(man, tree_p, work)
        c_tags: dict[str, str] = {}
        t_tags: dict[str, str] = {}
        pending = []
        for h in man["headers"]:
            c_path = cdir / h["path"]
            up, after = None, []
            if h.get("upstream"):
                up, inc = _upstream(h, work)
                after = [inc]
            c_tu = _parse(c_path, man, [cdir], man.get("prelude", []), after)
            _typedef_tags(c_tu, c_tags)
            if up is None:
                c_decls = _collect(c_tu, lambda f, p=str(c_path): f == p)
            else:
                # The upstream header's declarations, not the includer's glue.
                c_decls = _collect(c_tu, lambda f, u=up: _same_file(f, u))
            t_files = _tree_files(man, h, tree_p, work)
            present = [f for f in t_files if f.is_file()]
            rel = lambda p: str(p.relative_to(tree_p)) if str(p).startswith(str(tree_p)) else p.name
            if not present:
                report.findings.append(Finding(h["path"], h["path"], "header", "missing",
                                               contract_at=str(c_path.relative_to(paths.ROOT)),
                                               detail=f"the tree has no {', '.join(rel(f) for f in t_files)}"))
                continue
            mapped = {str(f) for f in present}
            t_decls: dict[str, Decl] = {}
            elsewhere: dict[str, Decl] = {}
            for f in present:
                tu = _parse(f, man, t_inc, man.get("prelude", []), after, t_extra)
                _typedef_tags(tu, t_tags)
                for name, d in _collect(tu, lambda p: p in mapped or (up is not None and _same_file(p, up))).items():
                    t_decls.setdefault(name, d)
                for name, d in _collect(tu, lambda p: p.startswith(str(tree_p)) or p.startswith(str(work))).items():
                    elsewhere.setdefault(name, d)
            pending.append((h, c_path, c_decls, t_decls, elsewhere))
        aliases = _tag_aliases(c_tags, t_tags)
        for tag, (ttag, typedef) in sorted(aliases.items()):
            report.findings.append(Finding(f"typedef {typedef}", typedef, "typedef", "note", f"struct {tag}",
                                           f"struct {ttag}", detail=f"names struct {ttag} in the tree, struct {tag} "
                                           f"in the contract: compared as one type everywhere"))
        place = _placer(tree_p, work)
        for h, c_path, c_decls, t_decls, elsewhere in pending:
            for d in (*t_decls.values(), *elsewhere.values()):
                d.where = place(d.where)
            _compare(report, h, man, c_path, _renamed(c_decls, aliases), t_decls, elsewhere, tree_p, work)
    return report


# A typedef of a (pointer to a) named struct or union: its tag.
_TAGGED = __import__("re").compile(r"^(?:struct|union) (\w+)(?: \*)*$")


def _typedef_tags(tu, out: dict) -> None:
    """typedef name -> the struct/union tag it names, over the whole translation unit."""
    K = _cindex().CursorKind
    for c in tu.cursor.get_children():
        if c.kind == K.TYPEDEF_DECL:
            m = _TAGGED.match(_ctype(c.underlying_typedef_type))
            if m:
                out.setdefault(c.spelling, m.group(1))


def _tag_aliases(c_tags: dict, t_tags: dict) -> dict:
    """contract tag -> (tree tag, typedef) for each typedef both declare with another tag."""
    out = {}
    for name, ctag in c_tags.items():
        ttag = t_tags.get(name)
        if ttag and ttag != ctag and ctag not in out:
            out[ctag] = (ttag, name)
    return out


def _renamed(decls: dict, aliases: dict) -> dict:
    """The contract's declarations with the aliased struct tags spelled as the tree spells them."""
    if not aliases:
        return decls
    import re
    pat = re.compile(r"\b(struct|union) (" + "|".join(re.escape(t) for t in aliases) + r")\b")
    sub = lambda text: pat.sub(lambda m: f"{m.group(1)} {aliases[m.group(2)][0]}", text)
    out = {}
    for name, d in decls.items():
        value = d.value
        if isinstance(value, str):
            value = sub(value)
        elif isinstance(value, list):
            value = [(n, sub(t)) for n, t in value]
        if d.kind in ("struct", "union") and name in aliases:
            name = aliases[name][0]          # the struct itself, by the tree's tag
        out[name] = Decl(name, d.kind, value, d.where)
    return out


def _placer(tree: Path, work: Path):
    """file:line as the tree names it: links of the work directory followed to
    the tree's files, a generated method header named by its .m file."""
    from . import freebsd
    methods = {str(work / "methods" / h): m for h, m in freebsd.METHOD_FILES.items()}

    def place(where: str) -> str:
        path, sep, line = where.rpartition(":")
        if not sep or not path.startswith("/"):
            return where
        if path in methods:
            return f"{methods[path]} (generated {Path(path).name}):{line}"
        try:
            real = Path(path).resolve()
        except OSError:
            return where
        try:
            return f"{real.relative_to(tree)}:{line}"
        except ValueError:
            return f"{real}:{line}" if not str(real).startswith(str(work)) else where
    return place


def _show(d: Decl) -> str:
    if d.kind in ("struct", "union"):
        return "{ " + "; ".join(f"{t} {n}" for n, t in d.value) + " }" if d.value else "(incomplete)"
    return str(d.value)


def _compare(report, h, man, c_path, c_decls, t_decls, elsewhere, tree, work):
    partial = set(man.get("partial", []))
    gap = bool(h.get("gap"))
    for name, c in sorted(c_decls.items(), key=lambda kv: kv[1].where):
        t = t_decls.get(name)
        note = ""
        if t is None and name in elsewhere:
            t = elsewhere[name]
            note = f"declared in {t.where.replace(str(tree) + '/', '').replace(str(work) + '/', '')}"
        at = c.where.replace(str(paths.ROOT) + "/", "").replace(
            str(work) + "/xen-public-include/xen-public/", "<installed Xen public headers>/")
        f = Finding(h["path"], name, c.kind, "ok", _show(c), _show(t) if t else "", at,
                    t.where.replace(str(tree) + "/", "") if t else "", note)
        if t is None:
            if c.kind == "macro" and not c.value and (name.startswith("_") or name.endswith(("_H", "_H_", "__"))):
                continue          # include guards differ freely
            f.status, f.detail = "missing", "the tree does not declare it"
        elif c.kind in ("struct", "union") and t.kind == c.kind:
            f.status, f.detail = _compare_members(name, c.value, t.value, name in partial or gap, note)
        elif c.kind != t.kind:
            if {c.kind, t.kind} <= {"function", "macro"}:
                f.status, f.detail = "note", f"a {c.kind} in the contract, a {t.kind} in the tree"
            else:
                f.status, f.detail = "differs", f"a {c.kind} in the contract, a {t.kind} in the tree"
        elif c.value != t.value:
            f.status = "differs"
        elif note:
            f.status = "note"
        if h.get("upstream") and f.status in ("differs", "missing"):
            f = _upstream_finding(h, f)
            if f is None:
                continue
        report.findings.append(f)


def _upstream_finding(h, f):
    """A difference between an upstream header and the tree's copy of it."""
    if f.status == "missing":
        if f.name in set(h.get("uses", [])):
            f.detail = f"the tree's copy of {h['upstream']} does not declare it, and the generated code uses it"
            return f
        return None             # a newer upstream addition the generated code does not use
    f.status = "note"
    f.detail = (f"the tree's copy differs from the installed upstream {h['upstream']}"
                + (f" ({f.detail})" if f.detail else ""))
    return f


def _compare_members(name, cm, tm, partial, note) -> tuple[str, str]:
    if not cm or not tm:
        return ("ok" if not note else "note"), note
    tmap = dict(tm)
    order = [n for n, _ in tm]
    problems = []
    for n, t in cm:
        if n not in tmap:
            problems.append(f"member '{n}' is not in the tree's {name}")
        elif tmap[n] != t:
            problems.append(f"member '{n}' is {t} in the contract, {tmap[n]} in the tree")
    found = [order.index(n) for n, _ in cm if n in tmap]
    if found != sorted(found):
        problems.append("members are in another order than the tree's")
    if problems:
        return "differs", "; ".join(problems)
    extra = [n for n in order if n not in dict(cm)]
    if extra and not partial:
        return "differs", f"the tree has members the contract lacks: {', '.join(extra)}"
    if extra:
        return "note", f"partial by design; the tree also has {len(extra)} more member(s)"
    return ("note", note) if note else ("ok", "")
