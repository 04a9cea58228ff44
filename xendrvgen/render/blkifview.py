"""What blkif.h prints: types, constants by section, the native structs (and
Linux's union of request kinds), the ring and the per-ABI assertion tables."""
from __future__ import annotations

from xendrvgen.spec.model import Struct
from .fieldaccess import Layout
from .headerparts import Tags, align_defines, type_width
from .headerrecords import AssertGroup, BlkifView, CStruct, DefineSection, Typedef
from .packedlayout import Branch, flatten, merge_variants


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


class BlkifParts:
    # --- blkif.h ------------------------------------------------------------
    def blkif(self) -> BlkifView:
        spec, sp, os = self.spec, self.sp, self.os
        native = Layout(spec, os)
        native.check()
        conf = self.header_conf("blkif")
        tag = Tags("blkif")

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

    def ring_asserts(self, name: str, abis: tuple, tag: Tags) -> list[str]:
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
            out.append(DefineSection(tuple(sp.comment(GROUP_TITLES.get(g, g))), align_defines(items)))
        return tuple(out)

    def plain_struct(self, st: Struct) -> CStruct:
        """A struct as Xen declares it: natural layout, ABI-only fields under #if."""
        sp, ind, abis = self.sp, self.ind, self.spec.abi_names
        width = type_width(sp.field_type(f) for f in st.fields)
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
        hwidth = type_width([sp.field_type(f) for f in head] + ["union"])
        uwidth = type_width(t for t, _ in members)
        lines = [f"struct {lay.outer} {{"]
        for f in head:
            lines += self.field_decl(f, ind, hwidth)
        lines.append(f"{ind}union {{")
        for t, n in members:
            lines += sp.member(t, n, "", "", ind * 2, uwidth)
        lines.append(f"{ind}}} {self.os.union_member};")
        lines.append(f"}} {sp.packed()} {sp.aligned(align)};")
        return lines
