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

records.py holds what a verification reports, parse.py reads declarations
with libclang, compare.py compares them; here are the manifests, the tree's
side per OS and verify() itself.  The command is xendrvgen/cli/contract.py.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from xendrvgen.base import paths
from .compare import _compare, _placer, _renamed, _tag_aliases
from .parse import _cindex, _collect, _parse, _typedef_tags
from .records import ContractError, Decl, Finding, Report

# verify() and its records; the steps (parse.py, compare.py) are named here too,
# for the tests that take one apart.
__all__ = ["CONTRACTS_DIR", "KNOWN", "ContractError", "Decl", "Finding", "Report", "contract_headers",
           "manifest", "verify", "_cindex", "_collect", "_compare", "_placer", "_renamed", "_tag_aliases",
           "_typedef_tags", "_tree_includes"]

CONTRACTS_DIR = paths.ROOT / "contracts"
KNOWN = ("freebsd", "netbsd", "edk2", "openbsd")


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
# Tree side per OS
# ---------------------------------------------------------------------------
def _tree_includes(man: dict, tree: Path, work: Path) -> tuple[list[Path], list[str]]:
    """The tree's include directories and extra flags, as its kernel build has them."""
    os_name = man["os"]
    if os_name == "freebsd":
        from xendrvgen.compile import LocalRunner, freebsd
        log = freebsd.generate_method_headers(tree, work / "methods", LocalRunner())
        if log:
            raise ContractError(log)
        return freebsd.tree_includes(tree, work, man["target"]), list(freebsd.TREE_FLAGS)
    if os_name == "netbsd":
        from xendrvgen.compile import netbsd
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
    from xendrvgen.compile import CompileError, _cbuild
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


