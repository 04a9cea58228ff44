"""What blkif_abi.h prints: the x86_32 and x86_64 variant structs with explicit
layouts, their assertions, and the functions converting a request from a
variant to the native layout and a response back."""
from __future__ import annotations

from xendrvgen.base.diagnostics import error
from xendrvgen.spec.model import Field, Struct
from .fieldaccess import Layout, head_fields
from .headerparts import Tags, align_defines
from .headerrecords import AbiView, AssertGroup, Assign, CStruct, Case, Function, Loop, Param, Variant
from .packedlayout import same_on_every_abi, slots


class AbiParts:
    # --- blkif_abi.h --------------------------------------------------------
    def abi(self) -> AbiView:
        spec, sp, os = self.spec, self.sp, self.os
        conf = self.header_conf("abi")
        tag = Tags("blkif_abi")
        protos = [(c.name, sp.literal(c), tuple(sp.documented(c.description, c.mark)))
                  for c in spec.constants if c.group == "protocol"]
        native = []
        for _, abis, proto in self.abi_groups(lambda a: spec.abi(a).protocol):
            native.append((os.abi_condition(abis), proto))
        variants = tuple(self.variant(name, abi, tag) for name, abi in spec.abi_variants)
        return AbiView(guard=conf.guard, includes=conf.includes, portable=os.portable_asserts,
                       inline=sp.inline, protocols=align_defines(protos),
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

    def variant(self, variant: str, abi: str, tags: Tags) -> Variant:
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
