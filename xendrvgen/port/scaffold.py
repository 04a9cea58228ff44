"""`xendrvgen port new OS --like EXISTING`: everything a new OS needs, derived
from the closest existing port.

Everything is computed in memory and checked first (the name, --like, the
target, the derived profile, that no file is in the way); only then are the
files written, and a failure while writing removes what this run wrote.  It
never overwrites anything.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import checklist, sides as sides_mod


class PortError(Exception):
    """Bad input to `port new`: the message says what and how to fix it."""


NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,23}$")
PROBES = {"freebsd": "sys/sys/bus.h", "netbsd": "sys/sys/device.h", "edk2": "MdePkg/Include/Uefi.h"}
RESERVED = {"common", "sim", "generated", "all", "host"}


@dataclass
class Scaffold:
    os: str
    like: str
    target: str
    sides: list
    files: dict = field(default_factory=dict)    # relative path -> text


def zig_targets() -> list[str]:
    """'<arch>-<os>' of every system whose headers the installed ziglang ships."""
    from ..compile import ToolchainMissing, _zig
    try:
        libc = _zig.package_dir() / "lib" / "libc" / "include"
    except ToolchainMissing:
        return []
    out = set()
    for d in libc.iterdir():
        parts = d.name.split("-")
        if len(parts) >= 2 and parts[0] not in ("generic", "any"):
            out.add(f"{parts[0]}-{parts[1]}")
    return sorted(out)


def _check_name(root: Path, name: str, known: list[str]) -> None:
    if not NAME_RE.match(name) or keyword.iskeyword(name) or name in RESERVED:
        raise PortError(f"'{name}' is not a usable OS name: 2 to 24 lower-case letters and digits, "
                        "starting with a letter (it names a profile, a template folder and a Python module)")
    if name in known:
        raise PortError(f"OS '{name}' already has a port (specs/os/{name}.yaml); "
                        f"`xendrvgen port status {name}` shows what it covers")


def _like_module(like: str):
    from ..compile import CompileError, os_module
    try:
        return os_module(like)
    except CompileError:
        return None


def _default_target(like: str) -> str:
    mod = _like_module(like)
    targets = list(getattr(mod, "TARGETS", ()) or ())
    if targets and isinstance(targets[0], str) and "-" in targets[0]:
        return targets[0]
    raise PortError(f"--like {like} has no cross target to reuse: give --target TRIPLE "
                    "(a zig target such as x86_64-openbsd, or 'host')")


def _check_target(target: str) -> None:
    if target == "host":
        return
    known = zig_targets()
    if target not in known:
        hint = ""
        if known:
            near = [t for t in known if t.split("-")[-1] == target.split("-")[-1]] or known
            hint = f"; known: {', '.join(near[:12])}{' ...' if len(near) > 12 else ''}"
        else:
            hint = " (the zig compiler, PyPI 'ziglang', is not installed: pip install ziglang)"
        raise PortError(f"unknown target '{target}': not a system zig cc has headers for, nor 'host'{hint}")


def _flags(like: str, target: str) -> list[str]:
    mod = _like_module(like)
    if mod is not None and hasattr(mod, "flags"):
        try:
            return list(mod.flags(mod.TARGETS[0]))
        except Exception:   # a runner whose flags need its own targets
            pass
    if mod is not None and isinstance(getattr(mod, "FLAGS", None), list):
        return list(mod.FLAGS)
    return ["-std=gnu99", "-O2", "-ffreestanding", "-D_KERNEL", "-Wall", "-Werror"]


def _templates_used(tdir: Path, like: str, start: list[str]) -> list[str]:
    """The like's templates `start` and every template of its folder they import or extend."""
    seen, todo = [], list(start)
    while todo:
        rel = todo.pop(0)
        if rel in seen:
            continue
        seen.append(rel)
        text = (tdir / rel).read_text(encoding="utf-8")
        for m in re.finditer(rf"""['"]({re.escape(like)}/[^'"]+)['"]""", text):
            if (tdir / m.group(1)).is_file():
                todo.append(m.group(1))
    return seen


def _retarget(text: str, like: str, name: str) -> str:
    return re.sub(rf"""(['"]){re.escape(like)}/""", rf"\g<1>{name}/", text)


def plan_scaffold(root: Path, name: str, like: str, target: str | None, side: str) -> Scaffold:
    """What `port new` would write under `root`; PortError when it must not."""
    from xendrvgen.spec import osprofile
    from xendrvgen.base.diagnostics import SpecError
    profiles = root / "specs" / "os"
    tdir = root / "templates"
    known = osprofile.available(profiles)
    _check_name(root, name, known)
    if like not in known:
        raise PortError(f"unknown --like '{like}': no OS profile specs/os/{like}.yaml (known: {', '.join(known)})")
    try:
        like_prof = osprofile.load(profiles / f"{like}.yaml")
    except SpecError as exc:
        raise PortError(f"--like {like}: its profile does not load: {exc.diagnostics[0].message}") from None
    by_path = sides_mod.output_sides(like_prof, tdir)
    have = [s for s in sides_mod.SIDES if s in by_path.values()]
    want = list(sides_mod.SIDES) if side == "both" else [side]
    missing = [s for s in want if s not in have]
    if missing:
        raise PortError(f"--like {like} has no {' or '.join(missing)} to start from "
                        f"(it has: {', '.join(have) or 'neither side'})")
    target = target or _default_target(like)
    _check_target(target)

    keep = [o for o in like_prof.outputs if by_path[o.path] in ("shared", *want)]
    sc = Scaffold(name, like, target, want)
    # The template kit: each kept output's template and what it imports.
    for rel in _templates_used(tdir, like, [o.template for o in keep if o.template.startswith(f"{like}/")]):
        text = _retarget((tdir / rel).read_text(encoding="utf-8"), like, name)
        note = (f"{{#- {name}: derived from templates/{rel} by `xendrvgen port new {name} --like {like}`; "
                f"it still spells {like_prof.title}'s API (docs/ports/{name}.md lists what to map). -#}}\n")
        sc.files[f"templates/{name}/{rel.split('/', 1)[1]}"] = note + text
    # The profile.
    data = yaml.safe_load((profiles / f"{like}.yaml").read_text(encoding="utf-8"))
    data["name"] = name
    data["title"] = f"{name} kernel"
    data["description"] = f"Scaffolded from {like}'s profile; set the types, header paths and style of {name}."
    data.get("style", {}).pop("preamble", None)
    data["outputs"] = [{k: v for k, v in {"template": _retarget(f"'{o.template}'", like, name).strip("'"),
                                          "path": o.path, "header": o.header, "banner": o.banner}.items() if v}
                       for o in keep]
    text = (f"# OS profile: {name}, scaffolded by `xendrvgen port new {name} --like {like} --target {target}`.\n"
            f"# Everything below is {like}'s until changed: see docs/ports/{name}.md.\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    try:
        osprofile.loads(text, f"specs/os/{name}.yaml")
    except SpecError as exc:
        raise PortError(f"the derived profile does not load: {exc.diagnostics[0].message}") from None
    sc.files[f"specs/os/{name}.yaml"] = text
    sc.files.update(_contract(root, name, like, target))
    sc.files[f"xendrvgen/compile/{name}.py"] = _runner(name, like, target, _flags(like, target),
                                                        (root / "contracts" / like / "contract.yaml").is_file())
    from .. import plan as plan_mod, spec as spec_mod
    plan = plan_mod.build(spec_mod.load(root / "specs" / "blkif.yaml"))
    listed = sorted([*sc.files, f"docs/ports/{name}.md"])
    sc.files[f"docs/ports/{name}.md"] = checklist.render(plan, name, f"{name}", like, want, listed)
    for rel in sc.files:
        if (root / rel).exists() or (root / rel).is_symlink():
            raise PortError(f"{rel} already exists: `port new` never overwrites; remove it or pick another name")
    for d in (f"templates/{name}", f"contracts/{name}"):
        if (root / d).exists():
            raise PortError(f"{d} already exists: `port new` never overwrites; remove it or pick another name")
    return sc


def _contract(root: Path, name: str, like: str, target: str) -> dict:
    """An empty contract: the manifest and the include tree's folders, as the like's are laid out."""
    man_path = root / "contracts" / like / "contract.yaml"
    man = yaml.safe_load(man_path.read_text(encoding="utf-8")) if man_path.is_file() else {}
    heads = man.get("headers", [])
    body = {"os": name, "target": target, "toolchain": "zig" if target != "host" else "host",
            "defines": man.get("defines", ["_KERNEL"]), "prelude": man.get("prelude", []),
            "probe": man.get("probe") or PROBES.get(like, ""), "headers": []}
    todo = "".join(f"#   {h['path']:<40} ({like}: {h['tree'] if isinstance(h['tree'], str) else ', '.join(h['tree'])})\n"
                   for h in heads)
    out = {f"contracts/{name}/contract.yaml":
           f"# xendrvgen OS API contract for {name}: empty until written.  List each header of\n"
           f"# contracts/{name}/include/ as {{path: <include path>, tree: <path in a {name} tree>}}; the\n"
           f"# compile runner borrows {like}'s contract until then.  {like} declares:\n{todo}"
           + yaml.safe_dump(body, sort_keys=False, width=100)}
    folders = sorted({h["path"].rsplit("/", 1)[0] for h in heads if "/" in h["path"]})
    for d in folders or ["."]:
        out[f"contracts/{name}/include/{d}/.keep".replace("/./", "/")] = ""
    return out


def _runner(name: str, like: str, target: str, flags: list[str], borrow: bool) -> str:
    fl = ",\n    ".join(repr(f) for f in flags)
    return f'''"""{name}: the compile runner scaffolded by `xendrvgen port new {name} --like {like}`.

Cross-compiles the generated drivers for {target} against contracts/{name}/include
and, while the kit still spells {like}'s API, {like}'s contract (BORROW).  Set
BORROW = None once contracts/{name} declares what the templates use, and TREE
to build against a real source tree with --tree (see xendrvgen/compile/_port.py).
"""
from __future__ import annotations

from . import _port

DESCRIPTION = "{name} drivers, cross-compiled for {target} (scaffold)"
TARGETS = ({target!r},)
FLAGS = [
    {fl},
]
CONTRACT = {name!r}
BORROW = {repr(like) if borrow else None}
TREE = None

prepare, run = _port.runner(__name__)
'''


def write(root: Path, sc: Scaffold) -> list[str]:
    """Write the scaffold; on failure, remove what was written.  Returns the paths written."""
    done: list[Path] = []
    made: list[Path] = []
    try:
        for rel, text in sc.files.items():
            p = root / rel
            for parent in reversed(p.parents):
                if parent != root and root in parent.parents and not parent.exists():
                    parent.mkdir()
                    made.append(parent)
            with open(p, "x", encoding="utf-8") as fh:   # never over an existing file
                fh.write(text)
            done.append(p)
    except OSError as exc:
        for p in reversed(done):
            p.unlink(missing_ok=True)
        for d in reversed(made):
            try:
                d.rmdir()
            except OSError:
                pass
        raise PortError(f"cannot write the scaffold: {exc.strerror}: {exc.filename}") from None
    return list(sc.files)
