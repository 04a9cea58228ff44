"""Comparing the contract's declarations with the tree's: typedef-aware tag
aliases, the tree's locations named in its own files, one finding per
declaration (members compared in order; upstream copies' differences as
notes)."""
from __future__ import annotations

from pathlib import Path

from xendrvgen.base import paths
from .records import Decl, Finding


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
    from xendrvgen.compile import freebsd
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
