"""What a BSD kernel build provides besides the tree's headers.

A kernel or module build does not compile against the source tree alone:
config(1) (NetBSD) or the module build (FreeBSD) writes option headers
(`opt_xen.h`, `opt_global.h`, ...) into the build directory, and headers
include them unconditionally.  This module writes them for `compile --tree`,
from the option declarations in the tree itself, so every opt_*.h the tree
knows exists, holding exactly the options a kernel of that kind sets.

- NetBSD: `defflag`/`defparam`/`defopt [opt_file.h] NAME ...` in the config
  `files` (conf/files, the arch's files.*, and what they `include`).  An
  option without a file goes to opt_<name in lower case>.h.  A set option is
  `#define NAME 1` (or its value), as config(1) writes it.
- FreeBSD: `NAME [opt_file.h]` lines in sys/conf/options and
  options.<arch>.  A module build (KLD_MODULE) leaves them all empty.
"""
from __future__ import annotations

import re
from pathlib import Path

_NB_DEF = re.compile(r"^\s*(?:obsolete\s+)?(defflag|defparam|defopt)\s+(.*)$")
_NB_INCLUDE = re.compile(r'^\s*c?include\s+"([^"]+)"')
_HEADER = re.compile(r"^[\w.-]+\.h$")


def _logical_lines(text: str) -> list[str]:
    text = re.sub(r"\\\n", " ", text)
    return [line.split("#", 1)[0] for line in text.splitlines()]


def netbsd_options(sys_dir: Path, roots: list[str]) -> dict[str, list[str]]:
    """opt header name -> the options it holds, from the config files reachable from `roots` (relative to sys/)."""
    files: dict[str, list[str]] = {}
    seen: set[Path] = set()
    todo = [sys_dir / r for r in roots]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for line in _logical_lines(path.read_text(errors="replace")):
            inc = _NB_INCLUDE.match(line)
            if inc:
                todo.append(sys_dir / inc.group(1))
                continue
            m = _NB_DEF.match(line)
            if not m:
                continue
            words = m.group(2).split(":", 1)[0].split()
            header = words.pop(0) if words and _HEADER.match(words[0]) else None
            for w in words:
                name = w.split("=", 1)[0]
                if re.fullmatch(r"[A-Za-z_]\w*", name):
                    files.setdefault(header or f"opt_{name.lower()}.h", []).append(name)
    return files


def freebsd_options(sys_dir: Path, arches: list[str]) -> dict[str, list[str]]:
    """opt header name -> the options it holds, from sys/conf/options and options.<arch>."""
    files: dict[str, list[str]] = {}
    for name in ["options", *[f"options.{a}" for a in arches]]:
        path = sys_dir / "conf" / name
        if not path.is_file():
            continue
        for line in _logical_lines(path.read_text(errors="replace")):
            words = line.split()
            if not words or not re.fullmatch(r"[A-Za-z_]\w*", words[0]):
                continue
            header = words[1] if len(words) > 1 and _HEADER.match(words[1]) else f"opt_{words[0].lower()}.h"
            files.setdefault(header, []).append(words[0])
    return files


def write_opt_headers(out_dir: Path, options: dict[str, list[str]], set_options: dict[str, str]) -> list[Path]:
    """Write one header per entry of `options` into out_dir (only when its text changes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for header, names in sorted(options.items()):
        lines = [f"/* written by xendrvgen compile --tree, as the kernel build would */"]
        for n in dict.fromkeys(names):
            lines.append(f"#define\t{n}\t{set_options[n]}" if n in set_options
                         else f"/* option `{n}' not defined */")
        text = "\n".join(lines) + "\n"
        path = out_dir / header
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def existing(dirs: list[Path]) -> list[Path]:
    """The directories of `dirs` that exist, in order (a kernel build passes no -I for a missing one)."""
    return [d for d in dirs if Path(d).is_dir()]
