"""Building the model: a schema-valid Document turned into a Spec of frozen
dataclasses (model.py), every cross-reference resolved.  Semantic problems
(unknown types, duplicates, dangling references) are collected with their
positions; checks.py adds the whole-spec checks."""
from __future__ import annotations

from xendrvgen.base.diagnostics import Collector, Mark
from xendrvgen.base.yamldoc import Document
from .model import (
    Abi,
    Action,
    C_BASE_TYPES,
    ConstRef,
    Constant,
    Event,
    Field,
    Negotiation,
    NodeRef,
    Note,
    Ring,
    RingLayout,
    Spec,
    State,
    StateMachine,
    Struct,
    StructLayout,
    Transition,
    TypeDef,
    XsNode,
    did_you_mean,
)


# ----------------------------------------------------------------------------
class _Builder:
    def __init__(self, doc: Document, diags: Collector):
        self.doc, self.d, self.data = doc, diags, doc.data

    def m(self, *path) -> Mark:
        return self.doc.mark(path)

    def unique(self, key: str, what: str, name_of=lambda i: i["name"]) -> None:
        seen: dict = {}
        for i, item in enumerate(self.data.get(key, [])):
            name = name_of(item)
            if name in seen:
                self.d.error(f"duplicate {what} '{name if isinstance(name, str) else '/'.join(name)}' "
                             f"(first defined at line {seen[name].line})",
                             self.m(key, i, "name"), f"{what} '{name if isinstance(name, str) else name[1]}'")
            else:
                seen[name] = self.m(key, i)

    def build(self) -> Spec:
        for key, what in (("abis", "ABI"), ("types", "type"), ("constants", "constant"),
                          ("structs", "struct"), ("xenbus_states", "state"), ("actions", "action"),
                          ("negotiation", "negotiation"), ("abi_variants", "ABI variant")):
            self.unique(key, what)
        self.unique("xenstore_nodes", "node", lambda n: (n["side"], n["name"]))
        self.unique("state_machines", "state machine", lambda m: m["side"])
        self.unique("events", "event", lambda e: (e["side"], e["name"]))
        self.unique("xenstore_notes", "note", lambda n: str(n["number"]))

        D = self.data
        abis = tuple(Abi(a["name"], a["clang_target"], a["protocol"], self.m("abis", i))
                     for i, a in enumerate(D["abis"]))
        types = tuple(TypeDef(t["name"], t["c_type"], t.get("header"), t.get("description", ""),
                              self.m("types", i)) for i, t in enumerate(D["types"]))
        constants = tuple(Constant(c["name"], c["value"], c["group"], c.get("feature"),
                                   c.get("struct"), c.get("reserved", False), c.get("header"),
                                   c.get("description", ""), self.m("constants", i))
                          for i, c in enumerate(D["constants"]))
        const_by = {c.name: c for c in constants}
        type_by = {t.name: t for t in types}
        for i, t in enumerate(D["types"]):
            if t["c_type"] not in C_BASE_TYPES:
                self.d.error(f"type '{t['name']}' is based on unknown C type '{t['c_type']}'"
                             f"{did_you_mean(t['c_type'], C_BASE_TYPES)}",
                             self.m("types", i, "c_type"), f"type '{t['name']}'")
        struct_names = [s["name"] for s in D["structs"]]
        structs = tuple(self.struct(i, s, type_by, const_by, struct_names)
                        for i, s in enumerate(D["structs"]))
        r = D["ring"]
        ring = Ring(r["name"], r["request"], r["response"], r.get("index_type", "RING_IDX"),
                    r["page_size"], r["header_size"],
                    {abi: RingLayout(v["entry_size"], v["entries_per_page"], self.m("ring", "layout", abi))
                     for abi, v in r["layout"].items()}, self.m("ring"))
        states = tuple(State(s["name"], s["value"], s.get("description", ""), self.m("xenbus_states", i))
                       for i, s in enumerate(D["xenbus_states"]))
        actions = tuple(Action(a["name"], a["side"], a["description"], self.m("actions", i), a.get("ring"),
                               a.get("reads_config", False))
                        for i, a in enumerate(D["actions"]))
        events = tuple(Event(e["name"], e["side"], e["description"], e.get("forced", False), self.m("events", i))
                       for i, e in enumerate(D.get("events", ())))
        machines = tuple(self.machine(i, sm) for i, sm in enumerate(D["state_machines"]))
        negotiation = tuple(
            Negotiation(n["name"], n["description"], n["decider"], n["offer"], n.get("accept"),
                        n["rule"], n.get("local_limit"), n.get("floor"), n.get("legacy"),
                        tuple(n.get("with", ())), self.m("negotiation", i))
            for i, n in enumerate(D["negotiation"]))
        notes = tuple(Note(n["number"], n["text"], self.m("xenstore_notes", i))
                      for i, n in enumerate(D["xenstore_notes"]))
        nodes = tuple(self.node(i, n) for i, n in enumerate(D["xenstore_nodes"]))
        variants = tuple((v["name"], v["abi"]) for v in D.get("abi_variants", ()))
        return Spec(self.doc.file, self.doc.sha256, D["name"], D["title"], D.get("upstream", {}),
                    abis, variants, types, constants, structs, ring, states, actions, machines,
                    negotiation, notes, nodes, events)

    def struct(self, i, s, type_by, const_by, struct_names) -> Struct:
        ctx = f"struct '{s['name']}'"
        fields = []
        seen = set()
        for j, f in enumerate(s["fields"]):
            fm = self.m("structs", i, "fields", j)
            if f["name"] in seen:
                self.d.error(f"duplicate field '{f['name']}'", self.m("structs", i, "fields", j, "name"), ctx)
            seen.add(f["name"])
            t = f["type"]
            is_struct = False
            if t in C_BASE_TYPES:
                base = t
            elif t in type_by:
                base = type_by[t].c_type
            elif t in struct_names[:i]:
                base, is_struct = t, True
            elif t in struct_names:
                self.d.error(f"field '{f['name']}' uses struct '{t}' before it is defined",
                             self.m("structs", i, "fields", j, "type"), ctx)
                base, is_struct = t, True
            else:
                known = list(C_BASE_TYPES) + list(type_by) + struct_names
                self.d.error(f"field '{f['name']}' uses unknown type '{t}'{did_you_mean(t, known)}",
                             self.m("structs", i, "fields", j, "type"), ctx)
                base = t
            count, ref = None, None
            if "array" in f:
                a = f["array"]
                if isinstance(a, int):
                    count = a
                else:
                    ref = a
                    c = const_by.get(a)
                    if c is None:
                        self.d.error(f"field '{f['name']}' has array length '{a}', which is not a constant"
                                     f"{did_you_mean(a, const_by)}",
                                     self.m("structs", i, "fields", j, "array"), ctx)
                    elif not isinstance(c.value, int) or c.value < 1:
                        self.d.error(f"field '{f['name']}' has array length '{a}', whose value {c.value!r} "
                                     "is not a positive integer", self.m("structs", i, "fields", j, "array"), ctx)
                    else:
                        count = c.value
            abis = frozenset(f["abis"]) if "abis" in f else None
            fields.append(Field(f["name"], t, base, is_struct, count, ref, abis,
                                f.get("padding", False), f.get("description", ""), fm, f.get("units")))
        layouts = {abi: StructLayout(v["size"], v["align"], dict(v["offsets"]),
                                     self.m("structs", i, "layout", abi))
                   for abi, v in s["layout"].items()}
        return Struct(s["name"], s.get("typedef"), s.get("description", ""),
                      tuple(s.get("operations", ())), tuple(fields), layouts, self.m("structs", i))

    def machine(self, i, sm) -> StateMachine:
        def when(w):
            return None if w == "local" or isinstance(w, dict) else tuple(w)
        ts = tuple(Transition(tuple(t["from"]), t["to"], when(t["when"]),
                              t["kind"], tuple(t["do"]), t.get("description", ""),
                              self.m("state_machines", i, "transitions", j),
                              t["when"].get("event") if isinstance(t["when"], dict) else None)
                   for j, t in enumerate(sm["transitions"]))
        return StateMachine(sm["side"], sm["initial"], tuple(sm.get("ignores", ())), ts,
                            self.m("state_machines", i), tuple(sm.get("ring_in_use", ())))

    def node(self, i, n) -> XsNode:
        def ref(v):
            if isinstance(v, dict):
                return NodeRef(v["node"]) if "node" in v else ConstRef(v["constant"])
            return v
        return XsNode(n["name"], n["side"], n["section"], n["type"], tuple(n.get("values", ())),
                      ref(n.get("default")), ref(n.get("min")), ref(n.get("max")), n.get("max_rule"),
                      n["writer"], tuple(n["readers"]), n.get("published_in"),
                      n.get("private", False), n.get("deprecated", False), tuple(n.get("notes", ())),
                      n.get("documented", True), n.get("feature"), n.get("per_queue", False),
                      n.get("vendor"), n.get("extension", False), n["description"],
                      self.m("xenstore_nodes", i), n.get("units"))


def build(doc: Document, diags: Collector) -> Spec:
    return _Builder(doc, diags).build()
