"""Pieces every header view is made of: per-ABI groups of one value, member
declarations (padding named), struct comments, static assertions and their
C89 fallback tags."""
from __future__ import annotations

from xendrvgen.spec.model import Field, Struct
from .fieldaccess import Layout
from .headerrecords import CDefine
from .packedlayout import field_size, group_by_value, slots


# ---------------------------------------------------------------------------
class Tags:
    """Unique names for the C89 fallback of static assertions."""

    def __init__(self, prefix: str):
        self.prefix, self.n = prefix, 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}_{self.n}"


def align_defines(defs: list[tuple[str, str, tuple]]) -> tuple:
    width = max((len(n) for n, _, _ in defs), default=0)
    return tuple(CDefine(n, v, c, f"#define {n.ljust(width)} {v}") for n, v, c in defs)


def type_width(types) -> int:
    return max((len(t) for t in types), default=0)


class Parts:
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
        width = type_width(types)
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

    def assert_lines(self, lay: Layout, st: Struct, abis: tuple, tag: Tags) -> tuple[list, list]:
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
