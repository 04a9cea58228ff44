"""Spelling C for one OS profile: types, literals, comments, assertions.

Everything that turns a spec fact into C text goes through a CSpeller, so
the choices (EDK2's UINT8, `//` comments, FreeBSD's __offsetof, a portable
static-assert fallback) are made in one place from the profile.
"""
from __future__ import annotations

import textwrap

from xendrvgen.base.cescape import c_string, comment_line, comment_text
from xendrvgen.base.diagnostics import Mark
from xendrvgen.spec.model import Constant, Field, Spec
from xendrvgen.spec.osprofile import OsProfile

TAB = 8
FLAG_GROUPS = ("vdisk_info", "discard_flag")

# Names of the macros a portable header defines for itself.
PORTABLE_ASSERT = "BLKIF_STATIC_ASSERT"
PORTABLE_ALIGNOF = "BLKIF_ALIGNOF"
PORTABLE_INLINE = "BLKIF_INLINE"


def visual_len(text: str) -> int:
    return len(text.expandtabs(TAB))


class CSpeller:
    def __init__(self, spec: Spec, profile: OsProfile, spec_name: str):
        self.spec, self.os, self.spec_name = spec, profile, spec_name

    # --- provenance ----------------------------------------------------------
    def src(self, mark: Mark) -> str:
        """'specs/blkif.yaml:123': where an element was defined."""
        return f"{self.spec_name}:{mark.line}"

    # --- types and literals --------------------------------------------------
    def base(self, c_type: str) -> str:
        return self.os.types[c_type]

    @property
    def const_kw(self) -> str:
        return self.os.types.get("const", "const")

    def field_type(self, f: Field, struct_tag=None) -> str:
        """The type a field is declared with (typedef names kept as the spec spells them)."""
        if f.is_struct:
            return f"struct {struct_tag(f.base) if struct_tag else f.base}"
        td = self.spec.typedef(f.type)
        if td is not None:
            return f.type
        return self.base(f.base)

    def array(self, f: Field) -> str:
        if f.count is None:
            return ""
        return f"[{f.count_ref or f.count}]"

    def literal(self, c: Constant) -> str:
        v = c.value
        if isinstance(v, str):
            return c_string(v)
        return self.int_literal(v, hexa=c.group in FLAG_GROUPS)

    @staticmethod
    def int_literal(v: int, hexa: bool = False) -> str:
        if v < 0:
            return f"({v})"
        text = f"0x{v:x}" if hexa else str(v)
        if v > 0xFFFFFFFF:
            return text + "ULL"
        if v > 0x7FFFFFFF:
            return text + "U"
        return text

    # --- comments -----------------------------------------------------------
    def comment(self, text: str, indent: str = "") -> list[str]:
        """A comment on lines of its own, wrapped to the profile's width."""
        text = comment_text(text)
        width = self.os.width - visual_len(indent)
        paras = [p for p in text.split("\n\n")] if text else [""]
        if self.os.comments == "line":
            lines = []
            for i, p in enumerate(paras):
                if i:
                    lines.append("")
                lines.extend(textwrap.wrap(" ".join(p.split()), width - 3) or [""])
            if len(lines) == 1:
                return [f"{indent}// {lines[0]}".rstrip()]
            return [f"{indent}//"] + [f"{indent}// {ln}".rstrip() for ln in lines] + [f"{indent}//"]
        one = f"{indent}/* {' '.join(text.split())} */"
        if "\n\n" not in text and visual_len(one) <= self.os.width:
            return [one]
        lines = []
        for i, p in enumerate(paras):
            if i:
                lines.append("")
            lines.extend(textwrap.wrap(" ".join(p.split()), width - 3) or [""])
        return [f"{indent}/*"] + [f"{indent} * {ln}".rstrip() for ln in lines] + [f"{indent} */"]

    def tail(self, text: str) -> str:
        """A short comment at the end of a line (e.g. after #endif)."""
        text = comment_line(text)
        return f"// {text}" if self.os.comments == "line" else f"/* {text} */"

    def trailing(self, text: str) -> str:
        text = " ".join(comment_text(text).split())
        return f"///< {text}" if self.os.comments == "line" else f"/* {text} */"

    def documented(self, description: str, mark: Mark, indent: str = "") -> list[str]:
        """A description followed by the spec line it comes from."""
        src = self.src(mark)
        text = f"{description.strip()} [{src}]" if description.strip() else f"[{src}]"
        return self.comment(text, indent)

    # --- declarations -------------------------------------------------------
    def member(self, ctype: str, name: str, array: str, comment: str, indent: str,
               type_width: int) -> list[str]:
        """One member declaration, its comment trailing when it fits, else above."""
        t = ctype.ljust(type_width) if self.os.align_fields else ctype
        decl = f"{indent}{t} {name}{array};"
        if not comment:
            return [decl]
        trail = f"{decl} {self.trailing(comment)}"
        if visual_len(trail) <= self.os.width:
            return [trail]
        return self.comment(comment, indent) + [decl]

    # --- assertions ---------------------------------------------------------
    def sizeof(self, ctype: str) -> str:
        return f"sizeof({ctype})"

    def alignof(self, ctype: str) -> str:
        name = PORTABLE_ALIGNOF if self.os.portable_asserts else self.os.c["alignof"]
        return f"{name}({ctype})"

    def offsetof(self, ctype: str, path: str) -> str:
        return f"{self.os.c['offsetof']}({ctype}, {path})"

    def static_assert(self, expr: str, msg: str, tag: str) -> str:
        if self.os.portable_asserts:
            return f"{PORTABLE_ASSERT}({tag}, {expr}, {c_string(msg)});"
        return f"{self.os.c['static_assert']}({expr}, {c_string(msg)});"

    @property
    def align_guard(self) -> str | None:
        """Macro that must be defined for alignment assertions (portable headers)."""
        return PORTABLE_ALIGNOF if self.os.portable_asserts else None

    @property
    def inline(self) -> str:
        return PORTABLE_INLINE if self.os.c["inline"] == "portable" else self.os.c["inline"]

    def read_once(self, expr: str, ctype: str) -> str:
        pattern = self.os.c.get("read_once")
        if not pattern:
            return expr
        return pattern.replace("{type}", ctype).replace("{}", expr)

    def packed(self) -> str:
        return self.os.c["packed"]

    def aligned(self, n: int) -> str:
        return self.os.c["aligned"].replace("{}", str(n))
