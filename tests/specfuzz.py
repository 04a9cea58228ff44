"""A fuzzer over the spec's YAML structure, for tests/test_spec_fuzz.py and
bench/spec_fuzz.py.

Each example is the shipped spec with a few edits at random places of its
tree: a value replaced (by a number at or past a C type's range, a float,
hostile text, a keyword, a wrong type), a key deleted, a list item
duplicated.  The pipeline then runs in process, as `generate` would:

- loading and checking may refuse the spec (a SpecError: exit 2), but any
  other exception is a crash (exit 3) and a finding;
- a spec the checks accept renders for one OS; a template error there means
  the checks let through something the templates cannot spell: a finding;
- the rendered protocol headers compile with warnings as errors;
- when only text changed (descriptions and the like), the C is the same as
  the shipped spec's once comments are removed.
"""
from __future__ import annotations

import copy
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import strategies as st

import cbuild
from test_hostile_text import TEXT_KEYS, c_tokens
from xendrvgen.spec import osprofile
from xendrvgen.render import environment as render
from xendrvgen.base.diagnostics import SpecError
from xendrvgen.spec import load

ROOT = Path(__file__).resolve().parent.parent
BASE = yaml.safe_load((ROOT / "specs" / "blkif.yaml").read_text())
PROFILES = {p.name: p for p in osprofile.load_many(None)}
FUZZ_OSES = ("freebsd", "netbsd")     # headers that build standalone with the host gcc


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


PATHS = [p for p in _paths(BASE) if p]
HOSTILE_TEXT = ("*/ int x; /*", "\\", "??/", "a\nb", "\u202e", "%s%n", "int", "__x", "if", "x\n",
                "queue-%u/ring-ref%u", "", " ", "ring-ref", "BLKIF_OP_READ", "../etc", "😀")
VALUES = st.one_of(
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.sampled_from([0, 1, -1, 255, 256, 65535, 1 << 31, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
    st.dictionaries(st.sampled_from(["name", "node", "constant", "x"]), st.text(max_size=4), max_size=2),
)


def _parent(data, path):
    for p in path[:-1]:
        data = data[p]
    return data


@st.composite
def edits(draw):
    """A list of (op, path, value) edits, applied in order."""
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        op = draw(st.sampled_from(["replace", "replace", "replace", "text", "delete", "duplicate"]))
        path = draw(st.sampled_from(PATHS))
        value = draw(VALUES) if op == "replace" else draw(st.sampled_from(HOSTILE_TEXT)) if op == "text" else None
        out.append((op, path, value))
    return out


def apply(edit_list) -> tuple[dict, bool]:
    """The edited spec data, and whether only description-like text changed."""
    data, text_only = copy.deepcopy(BASE), True
    for op, path, value in edit_list:
        try:
            parent = _parent(data, path)
            key = path[-1]
            current = parent[key]
        except (KeyError, IndexError, TypeError):
            continue                       # an earlier edit removed the place
        if op == "text":
            if isinstance(current, str) and key in TEXT_KEYS:
                parent[key] = current + " " + value
            continue
        text_only = False
        if op == "replace":
            parent[key] = value
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(current))
    return data, text_only


@dataclass
class Outcome:
    refused: int = 0         # SpecError at load (exit 2)
    rendered: int = 0
    compiled: int = 0
    text_only: int = 0
    findings: list = field(default_factory=list)


_BASE_TOKENS: dict = {}


def _render(spec, os_name: str) -> dict:
    files = render.render_all(spec, [PROFILES[os_name]], spec_name="spec.yaml")
    return {f.path: f.text for f in files}


def _base_tokens(os_name: str) -> dict:
    if os_name not in _BASE_TOKENS:
        files = _render(load(ROOT / "specs" / "blkif.yaml"), os_name)
        _BASE_TOKENS[os_name] = {p: c_tokens(t) for p, t in files.items() if p.endswith((".c", ".h"))}
    return _BASE_TOKENS[os_name]


def _compile_headers(os_name: str, files: dict, work: Path) -> str | None:
    """Compile the rendered protocol headers; the compiler's complaint, or None."""
    prof = PROFILES[os_name]
    root = work / os_name
    for path, text in files.items():
        dest = work / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    headers = [root / o.path for o in prof.outputs if o.header]
    flags = cbuild.include_flags(prof, root, work / "stubs")
    cmd = cbuild.compiler_cmd("gcc", "x86_64", "", "c99" if "c99" in prof.dialects else prof.dialects[0]) + flags
    res = cbuild.compile_tu(cmd, cbuild.tu_text(prof, headers), work)
    return None if res.returncode == 0 else res.stderr[-2000:]


def run_one(edit_list, os_name: str, out: Outcome) -> None:
    data, text_only = apply(edit_list)
    work = Path(tempfile.mkdtemp(prefix="xendrvgen-fuzz-"))
    try:
        spec_file = work / "spec.yaml"
        spec_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        try:
            spec = load(spec_file)
        except SpecError:
            out.refused += 1
            return
        except Exception as exc:           # exit 3 in the CLI
            out.findings.append(("crash at load", edit_list, f"{type(exc).__name__}: {exc}"))
            return
        try:
            files = _render(spec, os_name)
        except SpecError as exc:
            msgs = [d.message for d in exc.diagnostics]
            if any(m.startswith("template error") for m in msgs):
                out.findings.append(("template error on an accepted spec", edit_list, msgs[0]))
            else:
                out.refused += 1
            return
        except Exception as exc:
            out.findings.append(("crash at render", edit_list, f"{type(exc).__name__}: {exc}"))
            return
        out.rendered += 1
        if text_only:
            out.text_only += 1
            base = _base_tokens(os_name)
            for path, text in files.items():
                if path in base and c_tokens(text) != base[path]:
                    out.findings.append(("text changed the code", edit_list, path))
        err = _compile_headers(os_name, files, work / "build")
        if err:
            out.findings.append(("headers do not compile", edit_list, err))
        else:
            out.compiled += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def have_gcc() -> bool:
    return shutil.which("gcc") is not None and subprocess.run(
        ["gcc", "--version"], capture_output=True).returncode == 0
