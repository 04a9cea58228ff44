"""What the protocol header templates print, computed from spec and profile.

Three views, one per header: `blkif_view` (types, constants, the native
structs, the ring and the per-ABI assertion tables), `abi_view` (the x86_32
and x86_64 variant structs with explicit layouts, their assertions, and the
plans of the functions converting between a variant and the native layout)
and `nodes_view` (a macro per XenStore node name, default and limit).

Templates only arrange these: every decision (which ABIs share a layout,
where padding goes, which fields a request kind copies, which assertion
holds on which ABI) is taken here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from xendrvgen.spec import nodenames
from .fieldaccess import Layout, head_fields
from .packedlayout import (
    Branch,
    field_size,
    flatten,
    group_by_value,
    merge_variants,
    same_on_every_abi,
    slots,
)
from .cspelling import CSpeller
from xendrvgen.base.diagnostics import error
from xendrvgen.spec.model import ConstRef, Field, NodeRef, Spec, Struct, XsNode
from xendrvgen.spec.osprofile import OsProfile

GROUP_TITLES = {
    "operation": "Request operations (the operation field of every request).",
    "status": "Response status codes (the status field of a response).",
    "vdisk_info": "Bits of the backend's info node.",
    "discard_flag": "Flags of a discard request.",
    "limit": "Limits of the request layout.",
    "protocol": "Names of the request layouts, written to the frontend's protocol node.",
}
SECTION_TITLES = {
    "identification": "device identification",
    "features": "features",
    "transport": "request transport parameters",
    "properties": "device properties",
    "virtual-device": "virtual device properties",
    "multi-queue": "multi-queue",
}


# ---------------------------------------------------------------------------
# Data handed to templates
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CStruct:
    name: str                  # spec struct it renders (for cross-references)
    tag: str
    comment: tuple             # comment lines above it
    lines: tuple               # from `struct x {` to `};`, #if lines included
    typedef: str | None        # full typedef line, or None


@dataclass(frozen=True)
class CDefine:
    name: str
    value: str
    comment: tuple             # comment lines above it (may be empty)
    line: str                  # the aligned `#define NAME VALUE` line


@dataclass(frozen=True)
class DefineSection:
    title: tuple               # comment lines
    defines: tuple             # CDefine


@dataclass(frozen=True)
class Typedef:
    name: str
    comment: tuple
    lines: tuple


@dataclass(frozen=True)
class AssertGroup:
    condition: str | None      # C condition selecting the ABIs; None: every ABI
    abis: tuple
    asserts: tuple             # spelled assertion lines
    align_asserts: tuple
    align_guard: str | None    # macro that must be defined for align_asserts


@dataclass(frozen=True)
class Assign:
    dst: str
    src: str
    kind: str = "assign"


@dataclass(frozen=True)
class Loop:
    index: str
    bound: str
    body: tuple
    kind: str = "loop"


@dataclass(frozen=True)
class Case:
    labels: tuple              # constant names; empty for `default`
    decls: tuple               # local declarations (casts), spelled
    steps: tuple


@dataclass(frozen=True)
class Param:
    prefix: str                # EDK2's IN / OUT, or ''
    type: str
    name: str


@dataclass(frozen=True)
class Function:
    name: str
    comment: tuple
    ret: str
    params: tuple
    locals: tuple              # spelled declarations
    first: tuple               # steps before the switch
    switch: str | None
    cases: tuple
    steps: tuple               # steps when there is no switch


@dataclass(frozen=True)
class Variant:
    name: str                  # x86_32
    abi: str
    protocol: str              # constant naming it in the protocol node
    structs: tuple
    ring: str                  # DEFINE_RING_TYPES(...) line
    asserts: AssertGroup
    get_request: Function
    put_response: Function


@dataclass(frozen=True)
class BlkifView:
    guard: str
    includes: tuple
    portable: bool
    typedefs: tuple
    sections: tuple            # DefineSection
    pack: tuple                # (condition, n): #pragma pack around the structs
    structs: tuple             # CStruct
    ring: str
    ring_comment: tuple
    asserts: tuple             # AssertGroup per distinct layout (ring entry and header too)


@dataclass(frozen=True)
class AbiView:
    guard: str
    includes: tuple
    portable: bool
    inline: str
    protocols: tuple           # CDefine (each under #ifndef)
    native_protocol: tuple     # (condition, constant) per ABI group
    native_macro: str
    variants: tuple


@dataclass(frozen=True)
class NodeEntry:
    key: str                   # side/name
    comment: tuple
    defines: tuple             # CDefine


@dataclass(frozen=True)
class NodeSection:
    title: tuple
    nodes: tuple


@dataclass(frozen=True)
class NodesView:
    guard: str
    includes: tuple
    portable: bool
    queue_dir: CDefine
    sections: tuple
    notes: tuple               # comment lines
    asserts: tuple             # assertion lines valid on every ABI


# ---------------------------------------------------------------------------
class _Tags:
    """Unique names for the C89 fallback of static assertions."""

    def __init__(self, prefix: str):
        self.prefix, self.n = prefix, 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}_{self.n}"


def _align_defines(defs: list[tuple[str, str, tuple]]) -> tuple:
    width = max((len(n) for n, _, _ in defs), default=0)
    return tuple(CDefine(n, v, c, f"#define {n.ljust(width)} {v}") for n, v, c in defs)


def _type_width(types) -> int:
    return max((len(t) for t in types), default=0)


class _Builder:
    def __init__(self, spec: Spec, profile: OsProfile, spec_name: str):
        self.spec, self.os = spec, profile
        self.sp = CSpeller(spec, profile, spec_name)
        self.ind = profile.indent

    # --- shared pieces ------------------------------------------------------
    def abi_groups(self, value_of) -> list[tuple[str | None, tuple, object]]:
        """(condition, abis, value) per distinct value; the largest group last as #else."""
        groups = group_by_value(self.spec.abi_names, value_of)
        if len(groups) == 1:
            return [(None, groups[0][0], groups[0][1])]
        order = sorted(range(len(groups)), key=lambda i: (len(groups[i][0]), i))
        out = [(self.os.abi_condition(groups[i][0]), groups[i][0], groups[i][1]) for i in order]
        cond_last, abis_last, v_last = out[-1]
        out[-1] = (None, abis_last, v_last)
        return out

    def field_decl(self, f: Field, indent: str, width: int, struct_tag=None) -> list[str]:
        return self.sp.member(self.sp.field_type(f, struct_tag), f.name, self.sp.array(f),
                              f.description, indent, width)

    def pad_decl(self, name: str, size: int, indent: str, width: int) -> list[str]:
        return self.sp.member(self.sp.base("uint8_t"), name, f"[{size}]", "", indent, width)

    def explicit_lines(self, st: Struct, abi: str, indent: str, struct_tag, *, start=0,
                       only=None, abis=None) -> list[str]:
        """Members of an explicit layout (fields at their spec offsets, padding named)."""
        end = None
        if only is not None:
            lay = st.layouts[abi]
            last = max((f for f in st.fields_on(abi) if f.name in only), key=lambda f: lay.offsets[f.name])
            end = lay.offsets[last.name] + field_size(self.spec, last, abi)
        members = slots(self.spec, st, abi, start=start, end=end, only=only, abis=abis)
        types = [self.sp.base("uint8_t") if s.is_pad else self.sp.field_type(s.field, struct_tag)
                 for s in members]
        width = _type_width(types)
        lines: list[str] = []
        for s in members:
            if s.is_pad:
                lines += self.pad_decl(s.pad_name, s.size, indent, width)
            else:
                lines += self.field_decl(s.field, indent, width, struct_tag)
        return lines

    def struct_comment(self, st: Struct, extra: str = "") -> tuple:
        text = st.description.strip()
        if extra:
            text = f"{text} {extra}".strip()
        return tuple(self.sp.documented(text, st.mark))

    def assert_lines(self, lay: Layout, st: Struct, abis: tuple, tag: _Tags) -> tuple[list, list]:
        """Assertions of a struct's layout, for ABIs that share one table."""
        abi = abis[0]
        sp, sl = self.sp, st.layouts[abi]
        what = f"struct {st.name} on {', '.join(abis)} [{sp.src(sl.mark)}]"
        sizes = [sp.static_assert(f"{lay.size_expr(st, sp)} == {sl.size}", f"size of {what}", tag())]
        for f in st.fields_on(abi):
            expr = sp.offsetof(lay.container(st), lay.path(st, f.name))
            sizes.append(sp.static_assert(f"{expr} == {sl.offsets[f.name]}",
                                          f"offset of {f.name} in {what}", tag()))
        aligns = []
        if lay.has_own_alignment(st):
            aligns.append(sp.static_assert(f"{sp.alignof(lay.container(st))} == {sl.align}",
                                           f"alignment of {what}", tag()))
        return sizes, aligns

    def ring_line(self, name: str, req: str, rsp: str) -> str:
        return f"DEFINE_RING_TYPES({name}, struct {req}, struct {rsp});"

    def header_conf(self, role: str):
        return self.os.headers[role]

    # --- blkif.h ------------------------------------------------------------
    def blkif(self) -> BlkifView:
        spec, sp, os = self.spec, self.sp, self.os
        native = Layout(spec, os)
        native.check()
        conf = self.header_conf("blkif")
        tag = _Tags("blkif")

        typedefs = []
        for t in spec.types:
            if t.header:
                continue
            if os.typedefs == "typedef":
                lines = (f"typedef {sp.base(t.c_type)} {t.name};",)
            else:
                lines = (f"#ifndef {t.name}", f"#define {t.name} {sp.base(t.c_type)}", "#endif")
            typedefs.append(Typedef(t.name, tuple(sp.documented(t.description, t.mark)), lines))

        sections = self.constant_sections(lambda c: c.header is None)

        structs: list[CStruct] = []
        for st in spec.structs:
            if native.union and native.is_kind(st):
                if st.name == spec.ring.request:
                    structs.extend(self.union_structs(native))
                continue
            structs.append(self.plain_struct(st))

        pack = tuple((os.abi_condition([abi]), n) for abi, n in os.pack.items())

        def layout_key(abi):
            return (tuple((st.name, st.layouts[abi].size, st.layouts[abi].align,
                           tuple(sorted(st.layouts[abi].offsets.items()))) for st in spec.structs),
                    spec.ring.layouts[abi].entry_size)
        groups = []
        for _, abis, _ in self.abi_groups(layout_key):
            sizes, aligns = [], []
            for st in spec.structs:
                s, a = self.assert_lines(native, st, abis, tag)
                sizes += s
                aligns += a
            sizes += self.ring_asserts(spec.ring.name, abis, tag)
            groups.append(AssertGroup(os.abi_condition(abis), abis, tuple(sizes), tuple(aligns),
                                      sp.align_guard))
        ring = spec.ring
        return BlkifView(
            guard=conf.guard, includes=conf.includes, portable=os.portable_asserts,
            typedefs=tuple(typedefs), sections=sections, pack=pack, structs=tuple(structs),
            ring=self.ring_line(ring.name, ring.request if not native.union else native.outer, ring.response),
            ring_comment=tuple(sp.documented(
                f"The shared ring: a {ring.header_size}-byte header of indexes, then slots each holding "
                f"a request or its response.", ring.mark)),
            asserts=tuple(groups))

    def ring_asserts(self, name: str, abis: tuple, tag: _Tags) -> list[str]:
        sp, ring = self.sp, self.spec.ring
        abi = abis[0]
        lay = ring.layouts[abi]
        where = f"[{sp.src(lay.mark)}]"
        return [
            sp.static_assert(f"{sp.sizeof(f'union {name}_sring_entry')} == {lay.entry_size}",
                             f"{name} ring entry size on {', '.join(abis)} {where}", tag()),
            sp.static_assert(f"{sp.offsetof(f'struct {name}_sring', 'ring')} == {ring.header_size}",
                             f"{name} ring header size {where}", tag()),
        ]

    def constant_sections(self, keep) -> tuple:
        sp = self.sp
        order: list[str] = []
        for c in self.spec.constants:
            if keep(c) and c.group not in order:
                order.append(c.group)
        out = []
        for g in order:
            items = [(c.name, sp.literal(c), tuple(sp.documented(c.description, c.mark)))
                     for c in self.spec.constants if c.group == g and keep(c)]
            out.append(DefineSection(tuple(sp.comment(GROUP_TITLES.get(g, g))), _align_defines(items)))
        return tuple(out)

    def plain_struct(self, st: Struct) -> CStruct:
        """A struct as Xen declares it: natural layout, ABI-only fields under #if."""
        sp, ind, abis = self.sp, self.ind, self.spec.abi_names
        width = _type_width(sp.field_type(f) for f in st.fields)
        lines: list = [f"struct {st.name} {{"]
        runs: list[tuple] = []            # (ABIs or None, member lines)
        for f in st.fields:
            only = None if f.abis is None or set(f.abis) >= set(abis) else \
                tuple(a for a in abis if a in f.abis)
            if not runs or runs[-1][0] != only:
                runs.append((only, []))
            runs[-1][1].extend(self.field_decl(f, ind, width))
        for only, members in runs:
            if only is None:
                lines += members
            else:
                lines.append(Branch(((self.os.abi_condition(only), tuple(members)),)))
        lines.append("};")
        typedef = f"typedef struct {st.name} {st.typedef};" if st.typedef else None
        return CStruct(st.name, st.name, self.struct_comment(st), tuple(flatten(lines)), typedef)

    def union_structs(self, lay: Layout) -> list[CStruct]:
        """Linux's layout: a packed struct per request kind, then the request with the union."""
        spec, sp, ind = self.spec, self.sp, self.ind
        head = lay.head()
        start = lay.head_size()
        out = []
        for k in self.os.union_kinds:
            st = spec.struct(k.struct)
            tag = lay.member_tag(k)

            def lines_for(abi, st=st, k=k, tag=tag):
                return tuple([f"struct {tag} {{"]
                             + self.explicit_lines(st, abi, ind, lay.tag, start=start, only=k.fields,
                                                   abis=spec.abi_names)
                             + [f"}} {sp.packed()};"])
            body = merge_variants([(c, list(v)) for c, _, v in self.abi_groups(lines_for)])
            what = "the fields" if k.fields is None else \
                ("field " if len(k.fields) == 1 else "fields ") + ", ".join(k.fields)
            comment = (f"{st.description.strip()} Union member '{k.name}': {what} of {st.name} after "
                       f"the leading {', '.join(f.name for f in head)}, at their wire offsets.")
            out.append(CStruct(st.name, tag, tuple(sp.documented(comment, st.mark)), tuple(flatten(body)), None))
        req = spec.struct(spec.ring.request)
        out.append(CStruct(req.name, lay.outer, self.struct_comment(
            req, "Every request kind is reached through the union u."), tuple(flatten(self.outer_lines(lay))), None))
        return out

    def outer_lines(self, lay: Layout) -> list:
        spec = self.spec
        req = spec.struct(spec.ring.request)

        def lines_for(abi):
            return tuple(self.union_container_lines(lay, req.layouts[abi].align))
        return merge_variants([(c, list(v)) for c, _, v in self.abi_groups(lines_for)])

    def union_container_lines(self, lay: Layout, align: int) -> list[str]:
        """The request struct as a head of common fields and a union of the kinds."""
        sp, ind = self.sp, self.ind
        head = lay.head()
        members = [(f"struct {lay.member_tag(k)}", k.name) for k in self.os.union_kinds]
        hwidth = _type_width([sp.field_type(f) for f in head] + ["union"])
        uwidth = _type_width(t for t, _ in members)
        lines = [f"struct {lay.outer} {{"]
        for f in head:
            lines += self.field_decl(f, ind, hwidth)
        lines.append(f"{ind}union {{")
        for t, n in members:
            lines += sp.member(t, n, "", "", ind * 2, uwidth)
        lines.append(f"{ind}}} {self.os.union_member};")
        lines.append(f"}} {sp.packed()} {sp.aligned(align)};")
        return lines

    # --- blkif_abi.h --------------------------------------------------------
    def abi(self) -> AbiView:
        spec, sp, os = self.spec, self.sp, self.os
        conf = self.header_conf("abi")
        tag = _Tags("blkif_abi")
        protos = [(c.name, sp.literal(c), tuple(sp.documented(c.description, c.mark)))
                  for c in spec.constants if c.group == "protocol"]
        native = []
        for _, abis, proto in self.abi_groups(lambda a: spec.abi(a).protocol):
            native.append((os.abi_condition(abis), proto))
        variants = tuple(self.variant(name, abi, tag) for name, abi in spec.abi_variants)
        return AbiView(guard=conf.guard, includes=conf.includes, portable=os.portable_asserts,
                       inline=sp.inline, protocols=_align_defines(protos),
                       native_protocol=tuple(native), native_macro="XEN_IO_PROTO_ABI_NATIVE",
                       variants=variants)

    def variant_structs(self, variant: str, abi: str) -> list[Struct]:
        """Structs that need a variant: request kinds, the response, and what they nest
        unless its layout is one table on every ABI."""
        spec = self.spec
        wanted: list[Struct] = []

        def add(st: Struct):
            for f in st.fields:
                if f.is_struct:
                    inner = spec.struct(f.base)
                    if not same_on_every_abi(inner, spec.abi_names) and inner not in wanted:
                        add(inner)
            if st not in wanted:
                wanted.append(st)
        for st in [*spec.request_kinds(), spec.struct(spec.ring.response)]:
            add(st)
        return wanted

    def variant(self, variant: str, abi: str, tags: _Tags) -> Variant:
        spec, sp, os, ind = self.spec, self.sp, self.os, self.ind
        lay = Layout(spec, os, variant)
        nested = self.variant_structs(variant, abi)
        renamed = {st.name for st in nested}

        def struct_tag(name):
            return lay.tag(name) if name in renamed else name
        structs: list[CStruct] = []
        extra = f"Laid out as on {abi} whatever the compiler's ABI: packed, padding explicit."
        kinds = {k.name for k in spec.request_kinds()}
        for st in nested:
            if lay.union and st.name in kinds:
                if st.name != spec.ring.request:
                    continue
                start = lay.head_size()
                for k in os.union_kinds:
                    kst = spec.struct(k.struct)
                    lines = ([f"struct {lay.member_tag(k)} {{"]
                             + self.explicit_lines(kst, abi, ind, struct_tag, start=start, only=k.fields)
                             + [f"}} {sp.packed()};"])
                    structs.append(CStruct(kst.name, lay.member_tag(k), tuple(sp.documented(
                        f"Union member '{k.name}' of struct {lay.outer}. {extra}", kst.mark)), tuple(lines), None))
                lines = self.union_container_lines(lay, st.layouts[abi].align)
                structs.append(CStruct(st.name, lay.outer, self.struct_comment(st, extra), tuple(lines), None))
                continue
            lines = ([f"struct {lay.tag(st.name)} {{"]
                     + self.explicit_lines(st, abi, ind, struct_tag)
                     + [f"}} {sp.packed()} {sp.aligned(st.layouts[abi].align)};"])
            typedef = (f"typedef struct {lay.tag(st.name)} {lay.tag(st.typedef)};"
                       if st.typedef and not lay.union else None)
            structs.append(CStruct(st.name, lay.tag(st.name), self.struct_comment(st, extra),
                                   tuple(lines), typedef))
        sizes, aligns = [], []
        for st in nested:
            s, a = self.assert_lines(lay, st, (abi,), tags)
            sizes += s
            aligns += a
        rsp = spec.ring.response
        ring_name = f"{spec.ring.name}_{variant}"
        ring = self.ring_line(ring_name, lay.outer, struct_tag(rsp))
        sizes += self.ring_asserts(ring_name, (abi,), tags)
        asserts = AssertGroup(None, (abi,), tuple(sizes), tuple(aligns), sp.align_guard)
        proto = spec.abi(abi).protocol
        return Variant(variant, abi, proto, tuple(structs), ring, asserts,
                       self.get_request(variant, abi, lay, struct_tag),
                       self.put_response(variant, abi, lay, struct_tag))

    # --- conversion functions -----------------------------------------------
    def _fn_name(self, key: str, variant: str) -> str:
        pascal = "".join(p[:1].upper() + p[1:] for p in variant.split("_"))
        return self.os.c["functions"][key].replace("{variant}", variant).replace("{Variant}", pascal)

    def _copy_steps(self, st: Struct, native_abi_fields, dst: str, src: str,
                    dst_path, src_path, index: str) -> list:
        """Assignments copying every non-padding field of `st` once."""
        steps: list = []
        for f in st.fields:
            if f.padding or f.name not in native_abi_fields:
                continue
            d, s = f"{dst}->{dst_path(f.name)}", f"{src}->{src_path(f.name)}"
            steps += self._copy_field(f, d, s, index)
        return steps

    def _copy_field(self, f: Field, d: str, s: str, index: str, depth: int = 0) -> list:
        if f.count is not None:
            if depth:
                raise error(f"field '{f.name}': arrays inside arrays are not supported by the "
                            "translation functions", f.mark)
            bound = f.count_ref or str(f.count)
            return [Loop(index, bound, tuple(self._copy_elem(f, f"{d}[{index}]", f"{s}[{index}]", index)))]
        return self._copy_elem(f, d, s, index, depth)

    def _copy_elem(self, f: Field, d: str, s: str, index: str, depth: int = 0) -> list:
        if not f.is_struct:
            return [Assign(d, s)]
        inner = self.spec.struct(f.base)
        out = []
        for g in inner.fields:
            if g.padding:
                continue
            out += self._copy_field(g, f"{d}.{g.name}", f"{s}.{g.name}", index, depth + 1)
        return out

    def _common_fields(self, st: Struct) -> set:
        """Fields the native struct has on every ABI (ABI-only fields are padding)."""
        out = set()
        for f in st.fields:
            if f.abis is None or set(f.abis) >= set(self.spec.abi_names):
                out.add(f.name)
            elif not f.padding:
                raise error(f"field '{f.name}' exists on some ABIs only and is not padding, so it "
                            "cannot be translated", f.mark, f"struct '{st.name}'")
        return out

    def get_request(self, variant: str, abi: str, lay: Layout, struct_tag) -> Function:
        spec, sp, os = self.spec, self.sp, self.os
        native = Layout(spec, os)
        loc = os.c["locals"]
        dst, src, idx = loc["dst"], loc["src"], loc["index"]
        const = sp.const_kw
        head = head_fields(spec)
        op = head[0]
        first = [Assign(f"{dst}->{native.path(spec.struct(spec.ring.request), op.name)}",
                        sp.read_once(f"{src}->{lay.path(spec.struct(spec.ring.request), op.name)}",
                                     sp.field_type(op)))]
        for f in head[1:]:
            first.append(Assign(f"{dst}->{f.name}", f"{src}->{f.name}"))
        head_names = {f.name for f in head}
        cases = []
        uses_loop = False
        for st in spec.request_kinds():
            common = self._common_fields(st) - head_names
            decls: list[str] = []
            d, s = dst, src
            if native.cast_needed(st):
                d, s = self._cast_local(dst, st), self._cast_local(src, st)
                ntype = f"struct {native.tag(st.name)}"
                vtype = f"struct {lay.tag(st.name)}"
                void = sp.base("void")
                decls = [f"{ntype} *{d} = ({ntype} *)({void} *){dst};",
                         f"{const} {vtype} *{s} = ({const} {vtype} *)({const} {void} *){src};"]
            steps = self._copy_steps(st, common, d, s,
                                     lambda n, st=st: native.path(st, n), lambda n, st=st: lay.path(st, n), idx)
            uses_loop |= any(isinstance(x, Loop) for x in steps)
            cases.append(Case(tuple(st.operations), tuple(decls), tuple(steps)))
        # Unknown operations: copy only what the response echoes, so the
        # backend can fail the request without reading anything else.
        req = spec.struct(spec.ring.request)
        rsp = spec.struct(spec.ring.response)
        echo = [f for f in rsp.fields if f.name not in head_names and req.field(f.name) is not None]
        default = [Assign(f"{dst}->{native.echo_path(req, f.name)}", f"{src}->{lay.echo_path(req, f.name)}")
                   for f in echo]
        cases.append(Case((), (), tuple(default)))
        p_in, p_out = os.c["params"]["in"], os.c["params"]["out"]
        params = (Param(p_out, f"struct {native.outer} *", dst),
                  Param(p_in, f"{const} struct {lay.outer} *", src))
        comment = (f"Copy a request laid out as on {abi} into the native layout. Every field the "
                   f"request's operation defines is read once from the shared ring and never again; "
                   f"loops are bounded by the array lengths. Decide on {dst} only. An unknown "
                   f"operation copies just what the response echoes.")
        return Function(self._fn_name("get_request", variant), tuple(sp.comment(comment)), sp.base("void"),
                        params, (f"{sp.base('unsigned int')} {idx};",) if uses_loop else (),
                        tuple(first), f"{dst}->{op.name}", tuple(cases), ())

    def _cast_local(self, base: str, st: Struct) -> str:
        suffix = st.name[len(self.spec.ring.request):].strip("_") or "req"
        if base[:1].isupper():
            return base + "".join(p.capitalize() for p in suffix.split("_"))
        return f"{base}_{suffix}"

    def put_response(self, variant: str, abi: str, lay: Layout, struct_tag) -> Function:
        spec, sp, os = self.spec, self.sp, self.os
        loc = os.c["locals"]
        dst, src, idx = loc["dst"], loc["src"], loc["index"]
        const = sp.const_kw
        rsp = spec.struct(spec.ring.response)
        steps: list = []
        for s in slots(spec, rsp, abi):
            if s.is_pad and s.size == 1:
                steps.append(Assign(f"{dst}->{s.pad_name}[0]", "0"))
            elif s.is_pad:
                steps.append(Loop(idx, str(s.size), (Assign(f"{dst}->{s.pad_name}[{idx}]", "0"),)))
            elif not s.field.padding:
                steps += self._copy_field(s.field, f"{dst}->{s.field.name}", f"{src}->{s.field.name}", idx)
            else:
                steps.append(Assign(f"{dst}->{s.field.name}", "0"))
        p_in, p_out = os.c["params"]["in"], os.c["params"]["out"]
        params = (Param(p_out, f"struct {lay.tag(rsp.name)} *", dst),
                  Param(p_in, f"{const} struct {rsp.name} *", src))
        comment = (f"Write a native response into a ring laid out as on {abi}. Every byte of the "
                   f"slot is written, padding included, so nothing of the backend leaks to the frontend.")
        uses_loop = any(isinstance(x, Loop) for x in steps)
        return Function(self._fn_name("put_response", variant), tuple(sp.comment(comment)), sp.base("void"),
                        params, (f"{sp.base('unsigned int')} {idx};",) if uses_loop else (),
                        (), None, (), tuple(steps))

    # --- blkif_nodes.h ------------------------------------------------------
    def nodes(self) -> NodesView:
        spec, sp, os = self.spec, self.sp, self.os
        nodenames.check_unique(spec)
        conf = self.header_conf("nodes")
        tags = _Tags("blkif_nodes")
        sections: list[NodeSection] = []
        asserts: list[str] = []
        for side in ("backend", "frontend"):
            order: list[str] = []
            for n in spec.nodes_of(side):
                if n.section not in order:
                    order.append(n.section)
            for sec in order:
                entries = []
                for n in spec.nodes_of(side):
                    if n.section != sec:
                        continue
                    defs, checks = self.node_defines(n)
                    entries.append(NodeEntry(f"{n.side}/{n.name}",
                                             tuple(sp.comment(self.node_text(n))), _align_defines(defs)))
                    for expr, msg in checks:
                        asserts.append(sp.static_assert(expr, msg, tags()))
                title = f"{side.capitalize()} nodes: {SECTION_TITLES.get(sec, sec)}."
                sections.append(NodeSection(tuple(sp.comment(title)), tuple(entries)))
        notes = []
        for note in spec.notes:
            notes.append(f"({note.number}) {note.text}")
        notes_lines = tuple(sp.comment("Notes referred to above.\n\n" + "\n\n".join(notes))) if notes else ()
        qd = CDefine(f"{nodenames.PREFIX}FE_QUEUE_DIR_FMT", f'"{nodenames.QUEUE_DIR}"',
                     tuple(sp.comment("Directory of one queue's nodes when several queues are in use.")),
                     f'#define {nodenames.PREFIX}FE_QUEUE_DIR_FMT "{nodenames.QUEUE_DIR}"')
        return NodesView(conf.guard, conf.includes, os.portable_asserts, qd, tuple(sections),
                         notes_lines, tuple(asserts))

    def node_text(self, n: XsNode) -> str:
        readers = " and ".join(f"the {r}" for r in n.readers)
        parts = [n.description.strip(), ""]
        meta = [f"Type {n.type}", f"written by the {n.writer}" if n.writer != "toolstack" else "written by the toolstack",
                f"read by {readers}"]
        if n.published_in:
            meta.append(f"published in {n.published_in}")
        text = "; ".join(meta) + "."
        flags = []
        if n.private:
            flags.append("Private to the side whose directory holds it.")
        if n.deprecated:
            flags.append("Deprecated: only for legacy peers.")
        if n.per_queue:
            flags.append("With several queues, kept in each queue-%u directory instead.")
        if n.extension:
            flags.append(f"Extension ({n.vendor or 'vendor'}), not in Xen's header.")
        if n.max_rule:
            flags.append(f"Maximum: {n.max_rule}.")
        if n.notes:
            flags.append("Notes: " + ", ".join(str(x) for x in n.notes) + ".")
        text = " ".join([text, *flags])
        return f"{parts[0]}\n\n{text} [{self.sp.src(n.mark)}]"

    def _ref_node(self, n: XsNode, name: str, prefer_same: bool) -> XsNode | None:
        other = "backend" if n.side == "frontend" else "frontend"
        order = (n.side, other) if prefer_same else (other, n.side)
        for side in order:
            hit = self.spec.node(side, name)
            if hit is not None:
                return hit
        return None

    def node_defines(self, n: XsNode):
        sp = self.sp
        defs = [(nodenames.node_macro(n), f'"{n.name}"', ())]
        if n.per_queue:
            defs.append((nodenames.queue_macro(n), f'"{nodenames.queue_path(n)}"', ()))
        for v in n.values:
            defs.append((nodenames.value_macro(n, v), f'"{v}"', ()))
        numeric: dict = {}
        for key, val, same in (("DEFAULT", n.default, True), ("MIN", n.min, False), ("MAX", n.max, False)):
            if val is None:
                continue
            if isinstance(val, bool):
                val = int(val)
            if isinstance(val, int):
                defs.append((nodenames.node_macro(n, key), sp.int_literal(val), ()))
                numeric[key] = nodenames.node_macro(n, key)
            elif isinstance(val, ConstRef):
                defs.append((nodenames.node_macro(n, key), val.constant, ()))
            elif isinstance(val, NodeRef):
                ref = self._ref_node(n, val.node, prefer_same=same)
                if ref is not None:
                    defs.append((nodenames.node_macro(n, f"{key}_NODE"), nodenames.node_macro(ref), ()))
            elif isinstance(val, str):
                v = val if re.fullmatch(r"[A-Z_][A-Z0-9_]*", val) else f'"{val}"'
                defs.append((nodenames.node_macro(n, key), v, ()))
        checks = []
        where = f"node {n.side}/{n.name} [{sp.src(n.mark)}]"
        if "DEFAULT" in numeric and "MIN" in numeric:
            checks.append((f"{numeric['DEFAULT']} >= {numeric['MIN']}", f"default below minimum, {where}"))
        if "DEFAULT" in numeric and "MAX" in numeric:
            checks.append((f"{numeric['DEFAULT']} <= {numeric['MAX']}", f"default above maximum, {where}"))
        if "MIN" in numeric and "MAX" in numeric:
            checks.append((f"{numeric['MIN']} <= {numeric['MAX']}", f"minimum above maximum, {where}"))
        return defs, checks


def blkif_view(spec: Spec, profile: OsProfile, spec_name: str) -> BlkifView:
    return _Builder(spec, profile, spec_name).blkif()


def abi_view(spec: Spec, profile: OsProfile, spec_name: str) -> AbiView:
    return _Builder(spec, profile, spec_name).abi()


def nodes_view(spec: Spec, profile: OsProfile, spec_name: str) -> NodesView:
    return _Builder(spec, profile, spec_name).nodes()
