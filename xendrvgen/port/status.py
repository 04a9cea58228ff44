"""`xendrvgen port status [OS]`: what each OS's templates spell of the plan.

Everything is read from the code the OS's templates render to (comments
stripped where a name could be only mentioned): each negotiated value the
plan settles, each XenStore node it reads or writes, each state of the other
end, each request check (backends), and each hook, open while its
`XENDRVGEN HOOK(<id>)` marker is in the code.  Beside that: the contract
(headers declared, borrowed from another OS, the last `contract verify` on
this machine) and the compile runner with its last good build.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import record, sides as sides_mod
from xendrvgen.base import paths

HOOK_RE = re.compile(r"XENDRVGEN HOOK\((\w+)\)")


@dataclass
class Item:
    kind: str          # decision | node | state | check | hook
    name: str
    done: bool
    where: str = ""    # file:line of an open hook


@dataclass
class SideStatus:
    side: str
    items: list = field(default_factory=list)

    def count(self, kind: str) -> tuple[int, int]:
        its = [i for i in self.items if i.kind == kind]
        return sum(i.done for i in its), len(its)


@dataclass
class OsStatus:
    os: str
    title: str
    sides: list
    derived_from: str = ""           # templates still marked as derived from this OS
    contract: dict = field(default_factory=dict)
    compile: dict = field(default_factory=dict)
    left: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _side_items(plan, side: str, files: list) -> SideStatus:
    raw = "\n".join(t for _, t in files)
    code = _strip(raw)
    sp = plan.side(side)
    st = SideStatus(side)
    for d in sp.decisions:
        st.items.append(Item("decision", d.negotiation, bool(re.search(rf"\.{d.negotiation}\s*=[^=]", code))))
    seen = set()
    for n in sp.nodes():
        if n.macro in seen:
            continue
        seen.add(n.macro)
        st.items.append(Item("node", f"{n.node_side}/{n.name}", bool(re.search(rf"\b{n.macro}\b", code))))
    for other, _ in sp.machine.table:
        st.items.append(Item("state", other, f"XenbusState{other}" in code))
    if side == "backend":
        for o in plan.requests.ops:
            for c in o.checks:
                st.items.append(Item("check", f"{o.constant}: {c.id}", f"check {c.id}:" in raw))
    marked: dict = {}
    for path, text in files:
        for i, line in enumerate(text.splitlines(), 1):
            for m in HOOK_RE.finditer(line):
                marked.setdefault(m.group(1), f"{path}:{i}")
    for h in sp.hooks:
        st.items.append(Item("hook", h.id, h.id not in marked, marked.get(h.id, "")))
    for hid, where in marked.items():
        if hid not in {h.id for h in sp.hooks}:
            st.items.append(Item("hook", hid, False, where))
    return st


def _compile_info(os_name: str, work: Path) -> dict:
    from ..compile import CompileError, os_module
    try:
        mod = os_module(os_name)
    except CompileError:
        return {"runner": None}
    out = {"runner": getattr(mod, "DESCRIPTION", os_name), "borrow": getattr(mod, "BORROW", None)}
    stamp = work / os_name / ".xendrvgen-compile.json"
    try:
        res = json.loads(stamp.read_text())["result"]
        out["last"] = {"ok": res.get("ok"), "warnings": len(res.get("warnings", [])),
                       "artifacts": len(res.get("artifacts", [])), "work_dir": res.get("work_dir")}
    except (OSError, ValueError, KeyError, TypeError):
        out["last"] = None
    return out


def _contract_info(os_name: str) -> dict:
    import yaml
    man = paths.ROOT / "contracts" / os_name / "contract.yaml"
    if not man.is_file():
        return {"manifest": None}
    try:
        data = yaml.safe_load(man.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        data = {}
    return {"manifest": f"contracts/{os_name}/contract.yaml", "headers": len(data.get("headers") or []),
            "verified": data.get("verified"), "last_verify": record.last_contract(os_name)}


def _derived(os_name: str) -> str:
    for p in sorted((paths.TEMPLATES_DIR / os_name).glob("*.j2")):
        m = re.match(rf"\{{#- {os_name}: derived from templates/(\w+)/", p.read_text(encoding="utf-8"))
        if m:
            return m.group(1)
    return ""


def status(os_names: list[str] | None, spec_path: str, work: Path) -> list[OsStatus]:
    from xendrvgen.render import generate, environment as render
    inp = generate.load_inputs(spec_path, os_names or None)
    files = render.render_all(inp.spec, list(inp.profiles), spec_name=inp.spec_name)
    plan = render.load_plan(inp.spec)
    out = []
    for prof in inp.profiles:
        by_path = sides_mod.output_sides(prof, paths.TEMPLATES_DIR)
        mine = [(f.path, f.text) for f in files if f.os == prof.name]
        sides = [s for s in sides_mod.SIDES if s in by_path.values()]
        os_st = OsStatus(prof.name, prof.title, [])
        for side in sides:
            sel = [(p, t) for p, t in mine if by_path.get(p.split("/", 1)[1]) in (side, "shared")
                   and not _is_header(prof, p)]
            os_st.sides.append(_side_items(plan, side, sel))
        os_st.derived_from = _derived(prof.name)
        os_st.contract = _contract_info(prof.name)
        os_st.compile = _compile_info(prof.name, work)
        os_st.left = _left(os_st)
        out.append(os_st)
    return out


def _is_header(prof, path: str) -> bool:
    rel = path.split("/", 1)[1]
    return any(o.path == rel and o.header for o in prof.outputs)


def _left(s: OsStatus) -> list[str]:
    left = []
    if s.derived_from:
        left.append(f"templates/{s.os}/ still spell {s.derived_from}'s kernel API (docs/ports/{s.os}.md)")
    for sd in s.sides:
        for i in sd.items:
            if not i.done:
                left.append(f"{sd.side}: {i.kind} {i.name}" + (f" ({i.where})" if i.where else " not spelled"))
    c = s.contract
    if c.get("manifest") is None:
        left.append("no contract (contracts/<os>/contract.yaml)" if s.os not in ("linux",) else "")
    elif c.get("headers") == 0:
        left.append(f"contract {c['manifest']} declares no header yet")
    if s.compile.get("borrow"):
        left.append(f"compile borrows {s.compile['borrow']}'s contract (BORROW in xendrvgen/compile/{s.os}.py)")
    if s.compile.get("runner") is None:
        left.append(f"no compile runner (xendrvgen/compile/{s.os}.py)")
    return [x for x in left if x]


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
KINDS = ("decision", "node", "state", "check", "hook")


def _counts(sd: SideStatus) -> str:
    return ", ".join(f"{k}s {d}/{n}" for k in KINDS for d, n in [sd.count(k)] if n)


def render_text(sts: list[OsStatus]) -> str:
    lines = []
    for s in sts:
        lines.append(f"== {s.os} ({s.title}): {', '.join(sd.side for sd in s.sides) or 'no driver'}")
        for sd in s.sides:
            lines.append(f"  {sd.side}: {_counts(sd)}")
            opened = [i for i in sd.items if i.kind == "hook" and not i.done]
            for i in opened:
                lines.append(f"    hook {i.name}: open at {i.where}")
        c = s.contract
        if c.get("manifest"):
            lv = c.get("last_verify")
            ver = (f"last verify {lv['when']} against {lv['tree']}: "
                   f"{'FAILED' if lv['failed'] else 'ok'} {lv['counts']}") if lv else "not verified on this machine"
            lines.append(f"  contract: {c['headers']} headers; {ver}")
            if c.get("verified"):
                lines.append(f"    recorded: {c['verified']}")
        else:
            lines.append("  contract: none")
        cp = s.compile
        if cp.get("runner"):
            last = cp.get("last")
            how = (f"last good build {last['artifacts']} objects in {last['work_dir']}" if last
                   else "no good build recorded in the work directory")
            lines.append(f"  compile: {cp['runner']}; {how}")
        else:
            lines.append("  compile: no runner")
        if s.left:
            lines.append(f"  left ({len(s.left)}):")
            lines += [f"    - {x}" for x in s.left]
        else:
            lines.append("  left: nothing")
    return "\n".join(lines)


def render_markdown(sts: list[OsStatus]) -> str:
    """One table, a column per OS; only what the tree holds (no machine-local results)."""
    head = "| plan item | " + " | ".join(f"{s.title} (`{s.os}`)" for s in sts) + " |"
    rows = [head, "|---|" + "---|" * len(sts)]

    def cell(s: OsStatus, side: str, kind: str) -> str:
        sd = next((x for x in s.sides if x.side == side), None)
        if sd is None:
            return "n/a"
        d, n = sd.count(kind)
        if not n:
            return "n/a"
        if kind == "hook":
            return f"{n - d} marked" if d < n else "all filled"
        return "all" if d == n else f"{d}/{n}"

    for side in sides_mod.SIDES:
        for kind, label in (("decision", "negotiated values settled"), ("node", "XenStore nodes"),
                            ("state", "other end's states handled"), ("check", "request checks"),
                            ("hook", "hooks")):
            if side == "frontend" and kind == "check":
                continue
            rows.append(f"| {side}: {label} | " + " | ".join(cell(s, side, kind) for s in sts) + " |")
    rows.append("| contract headers | " + " | ".join(
        str(s.contract.get("headers")) if s.contract.get("manifest") else "none (kbuild)" for s in sts) + " |")
    rows.append("| compile test | " + " | ".join(s.compile.get("runner") or "none" for s in sts) + " |")
    return "\n".join(rows)


def render(sts: list[OsStatus], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"oses": [s.as_dict() for s in sts]}, indent=2)
    if fmt == "markdown":
        return render_markdown(sts)
    return render_text(sts)
