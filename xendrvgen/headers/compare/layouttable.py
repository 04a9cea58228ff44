"""`xendrvgen layout`: sizes and offsets measured from a real header, beside the spec's."""
from __future__ import annotations

import json

from xendrvgen.base.diagnostics import Mark, error
from xendrvgen.spec.model import Spec


def layout_table(spec: Spec, header: str | None, abis: list[str], fmt: str = "text", options=None) -> str:
    """Sizes and offsets measured from a real header, beside the spec's."""
    from xendrvgen import headers as cheader
    for a in abis:
        if a not in spec.abi_names:
            raise error(f"unknown ABI '{a}' (known: {', '.join(spec.abi_names)})")
    if header is None:
        found = [(p, path) for p, path in cheader.detect_installed() if p.node_docs]
        if not found:
            raise error("Xen's public blkif.h is not installed (apt-get install libxen-dev), "
                        "or pass --header FILE")
        prof, header = found[0]
    else:
        prof = None
    facts = cheader.analyze(header, prof, tuple(abis), options or cheader.HeaderOptions())
    if facts.unsupported:                      # ABIs the copy refuses with #error
        bad = ", ".join(f"{a} ({why})" for a, why in facts.unsupported.items())
        raise error(f"the header refuses {bad}; pass --abi with the others "
                    f"({', '.join(facts.abis)})", Mark(facts.path))
    rows: dict = {}
    for s in spec.structs:
        table = rows.setdefault(s.name, {})
        for abi in abis:
            kind = facts.profile.request_kinds.get(s.name)
            top = facts.layouts[abi].get(kind.struct if kind else s.name)
            entry = {"spec": {"size": s.layouts[abi].size, "align": s.layouts[abi].align,
                              "offsets": dict(s.layouts[abi].offsets)}}
            if top is not None:
                if kind is not None:
                    leaves = facts.wire_map(s.name, abi)
                else:
                    from xendrvgen.headers import wire
                    leaves = wire.wire_map(facts.layouts[abi], s.name, None, facts.profile.padding)
                by_name = {leaf.name: leaf.offset for leaf in leaves}
                entry["header"] = {"size": top.size, "align": top.align,
                                   "offsets": {f.name: by_name.get(f.name) for f in s.fields}}
            table[abi] = entry
    if fmt == "json":
        return json.dumps({"header": facts.path, "profile": facts.profile.name, "structs": rows}, indent=2)
    return _layout_text(spec, facts.path, rows, abis)


def _layout_text(spec: Spec, path: str, rows: dict, abis: list[str]) -> str:
    w = 14
    name_w = max(len(f"struct {s.name}") for s in spec.structs) + 2
    out = [f"Layouts measured from {path} (libclang); '!' marks a value that differs from the spec, "
           "shown as header/spec.", ""]
    for s in spec.structs:
        out.append((f"struct {s.name}".ljust(name_w) + "".join(a.ljust(w) for a in abis)).rstrip())

        def cell(abi, key, sub=None):
            e = rows[s.name][abi]
            if "header" not in e:
                return "-"
            h = e["header"][key] if sub is None else e["header"][key].get(sub)
            sp = e["spec"][key] if sub is None else e["spec"][key].get(sub)
            if h == sp:
                return "-" if h is None else str(h)
            return f"!{'-' if h is None else h}/{'-' if sp is None else sp}"

        table = [("size", "size", None), ("align", "align", None)] + [(f.name, "offsets", f.name) for f in s.fields]
        for label, key, sub in table:
            out.append((f"  {label}".ljust(name_w) + "".join(cell(a, key, sub).ljust(w) for a in abis)).rstrip())
        out.append("")
    return "\n".join(out).rstrip() + "\n"
