"""How C code reaches each request kind and field, in either request layout.

Xen's header (and FreeBSD's, NetBSD's, EDK2's copies) declares one struct
per request kind, overlaid on the same ring slot; Linux's declares one
`struct blkif_request` holding the kinds in a union `u`.  The same wire
field is `((struct blkif_request_discard *)req)->flag` in one and
`req->u.discard.flag` in the other.  A Layout answers, for a profile and
optionally an ABI variant, the struct tag of every spec struct, the member
path of every field, and the expressions for sizes and offsets, so header
assertions, translation functions and the round-trip tests agree.
"""
from __future__ import annotations

from dataclasses import dataclass

from xendrvgen.base.diagnostics import error
from xendrvgen.spec.model import C_BASE_TYPES, Field, Spec, Struct
from xendrvgen.spec.osprofile import OsProfile, UnionKind


def variant_tag(spec: Spec, name: str, variant: str | None) -> str:
    """Tag of a struct in an ABI variant: blkif_request -> blkif_x86_32_request."""
    if variant is None:
        return name
    prefix = spec.ring.name + "_"
    if name.startswith(prefix):
        return f"{prefix}{variant}_{name[len(prefix):]}"
    return f"{variant}_{name}"


def head_fields(spec: Spec) -> list[Field]:
    """Fields every request kind starts with, at the same offset on every ABI."""
    req = spec.struct(spec.ring.request)
    kinds = spec.request_kinds()
    out = []
    for f in sorted(req.fields, key=lambda f: req.layouts[spec.abi_names[0]].offsets.get(f.name, -1)):
        same = all(
            (g := k.field(f.name)) is not None and g.type == f.type and g.count == f.count
            and all(k.layouts[a].offsets.get(f.name) == req.layouts[a].offsets.get(f.name)
                    for a in spec.abi_names)
            for k in kinds)
        if not same:
            break
        out.append(f)
    # A head must be a prefix of the slot.
    pos = 0
    for f in out:
        if req.layouts[spec.abi_names[0]].offsets[f.name] != pos:
            return []
        pos += _size(f)
    return out


def _size(f: Field) -> int:
    return C_BASE_TYPES.get(f.base, 0) * (f.count or 1)


@dataclass(frozen=True)
class Layout:
    spec: Spec
    profile: OsProfile
    variant: str | None = None          # None: the native structs

    # --- structure ----------------------------------------------------------
    @property
    def union(self) -> bool:
        return self.profile.request_layout == "union"

    def tag(self, name: str) -> str:
        return variant_tag(self.spec, name, self.variant)

    @property
    def outer(self) -> str:
        """Tag of the ring request struct (the union's container in union layout)."""
        return self.tag(self.spec.ring.request)

    def head(self) -> list[Field]:
        return head_fields(self.spec)

    def head_size(self) -> int:
        return sum(_size(f) for f in self.head())

    def union_kind(self, st: Struct) -> UnionKind | None:
        """The union member carrying a whole request kind (None: not a kind)."""
        return next((k for k in self.profile.union_kinds if k.struct == st.name and k.fields is None), None)

    def member_tag(self, k: UnionKind) -> str:
        return f"{self.outer}_{k.name}"

    def is_kind(self, st: Struct) -> bool:
        return st.name in {k.name for k in self.spec.request_kinds()}

    def check(self) -> None:
        """Errors in the profile's union description, against the spec."""
        if not self.union:
            return
        kinds = {k.name for k in self.spec.request_kinds()}
        for k in self.profile.union_kinds:
            st = self.spec.struct(k.struct)
            if st is None or k.struct not in kinds:
                raise error(f"union member '{k.name}' names '{k.struct}', which is not a request kind "
                            f"of the spec ({', '.join(sorted(kinds))})", self.profile.mark,
                            f"OS profile '{self.profile.name}'")
            for fn in k.fields or ():
                if st.field(fn) is None:
                    raise error(f"union member '{k.name}' lists field '{fn}', which '{k.struct}' lacks",
                                self.profile.mark, f"OS profile '{self.profile.name}'")
        for st in self.spec.request_kinds():
            if self.union_kind(st) is None:
                raise error(f"request kind '{st.name}' has no union member carrying all its fields",
                            self.profile.mark, f"OS profile '{self.profile.name}'")
        if not self.head():
            raise error("the request kinds share no leading field, so they cannot share a union",
                        self.profile.mark, f"OS profile '{self.profile.name}'")

    # --- access expressions ----------------------------------------------------
    def container(self, st: Struct) -> str:
        """The C type through which a struct's fields are reached."""
        if self.union and self.is_kind(st):
            return f"struct {self.outer}"
        return f"struct {self.tag(st.name)}"

    def path(self, st: Struct, field_name: str) -> str:
        """Member path of a field from its container."""
        if self.union and self.is_kind(st):
            if field_name in {f.name for f in self.head()}:
                return field_name
            k = self.union_kind(st)
            return f"{self.profile.union_member}.{k.name}.{field_name}"
        return field_name

    def echo_path(self, st: Struct, field_name: str) -> str:
        """Path of a field that any request carries (the response echoes it)."""
        if self.union and field_name not in {f.name for f in self.head()}:
            for k in self.profile.union_kinds:
                if k.fields is not None and field_name in k.fields:
                    return f"{self.profile.union_member}.{k.name}.{field_name}"
        return self.path(st, field_name)

    def size_expr(self, st: Struct, sp) -> str:
        """Expression for the bytes a struct (or request kind) occupies."""
        if self.union and self.is_kind(st) and st.name != self.spec.ring.request:
            k = self.union_kind(st)
            return (f"{sp.offsetof(f'struct {self.outer}', self.profile.union_member)} + "
                    f"{sp.sizeof(f'struct {self.member_tag(k)}')}")
        return sp.sizeof(self.container(st))

    def has_own_alignment(self, st: Struct) -> bool:
        """Whether the struct is a C type of its own whose alignment is the kind's."""
        return not (self.union and self.is_kind(st) and st.name != self.spec.ring.request)

    def cast_needed(self, st: Struct) -> bool:
        """Whether code must cast a ring-request pointer to reach this kind."""
        return not self.union and st.name != self.spec.ring.request
