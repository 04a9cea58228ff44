"""Resource limits (xendrvgen/limits.py): hostile specs and headers end in a
clear error (exit 2) naming the limit, fast, leaving no process or temporary
directory behind.

Inputs that used to hang or eat memory run in a subprocess of their own
session, under a timeout and an address-space cap, so a regression fails
here instead of taking the machine down.
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xendrvgen.base import limits, yamldoc as loader
from xendrvgen import spec as spec_mod
from xendrvgen.base.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent
SPEC = (ROOT / "specs" / "blkif.yaml").read_text()
XEN_DIR = Path("/usr/include/xen")
needs_xen = pytest.mark.skipif(not (XEN_DIR / "io" / "blkif.h").exists(),
                               reason="needs Xen's headers: apt-get install libxen-dev")


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def xendrvgen(tmp_path: Path, *args: str, env: dict | None = None, timeout: float = 20):
    """(exit code, stderr) of the CLI, its temporary files under tmp_path/tmp;
    on a timeout its whole session is killed and the test fails."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "XENDRVGEN_NO_CACHE": "1", "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "xendrvgen.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_cap_memory)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"xendrvgen {' '.join(args)} still running after {timeout} s")
    return proc.returncode, err


def processes(tmp_path: Path) -> list[str]:
    """Command lines of the processes working in a run's temporary directory
    (gcc, cc1) or started with it as TMPDIR (the libclang process)."""
    tag, out = str(tmp_path / "tmp"), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if tag in cmdline or (f"TMPDIR={tag}".encode() in environ and "xendrvgen.cli" not in cmdline):
            out.append(cmdline)
    return out


def leftovers(tmp_path: Path) -> list[str]:
    """Processes and temporary directories of a finished run still there."""
    for _ in range(40):                 # a killed cc1 may take a moment to go
        if not processes(tmp_path):
            break
        time.sleep(0.05)
    return processes(tmp_path) + [p.name for p in (tmp_path / "tmp").iterdir()]


def limit_error(err: str, name: str) -> None:
    assert f"(limit '{name}')" in err and f"XENDRVGEN_LIMITS={name}=" in err, err
    assert "Traceback" not in err and "internal error" not in err, err


def with_extra_key(text: str) -> str:
    """The shipped spec with `text` inserted as top-level keys after `format`."""
    return SPEC.replace("format: 1\n", "format: 1\n" + text, 1)


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def spec_error(text: str, name: str) -> str:
    with pytest.raises(SpecError) as exc:
        spec_mod.loads(text, "x.yaml")
    err = str(exc.value)
    limit_error(err, name)
    return err


# --- the table -------------------------------------------------------------

def test_every_limit_is_documented_and_overridable(monkeypatch):
    table = limits.markdown()
    for name, lim in limits.TABLE.items():
        assert f"| `{name}` |" in table and lim.meaning
    monkeypatch.setenv(limits.ENV, "yaml-nodes=7, header-seconds=0.5")
    assert limits.get("yaml-nodes") == 7 and limits.get("header-seconds") == 0.5
    assert limits.get("spec-bytes") == limits.TABLE["spec-bytes"].value
    monkeypatch.setenv(limits.ENV, "yaml-nodez=7")
    with pytest.raises(SpecError, match="unknown limit 'yaml-nodez'"):
        limits.get("yaml-nodes")


def test_limits_leave_room_for_the_shipped_spec():
    doc = loader.load_text(SPEC, "blkif.yaml")
    assert len(SPEC.encode()) * 10 <= limits.get("spec-bytes")
    assert len(doc.marks) * 10 <= limits.get("yaml-nodes")
    assert max(len(p) for p in doc.marks) * 10 <= limits.get("yaml-depth")


# --- reading the spec ------------------------------------------------------

@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_spec_that_is_not_a_regular_file(tmp_path, kind):
    path = "/dev/zero"
    if kind == "fifo":                  # no writer: opening it used to wait forever
        path = str(tmp_path / "spec.fifo")
        os.mkfifo(path)
    code, err = xendrvgen(tmp_path, "plan", "--spec", path, timeout=10)
    assert code == 2 and f"{path}: cannot read: not a regular file" in err, err


def test_spec_larger_than_the_limit(tmp_path):
    path = write(tmp_path, SPEC + "#" * (limits.get("spec-bytes") - len(SPEC)) + "\n")
    code, err = xendrvgen(tmp_path, "plan", "--spec", str(path))
    assert code == 2 and f"{path}: the file is larger than 1 MiB" in err
    limit_error(err, "spec-bytes")


def test_billion_laughs(tmp_path):
    laughs = 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
        f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
    code, err = xendrvgen(tmp_path, "plan", "--spec", str(write(tmp_path, with_extra_key(laughs))), timeout=10)
    assert code == 2 and "more than 50,000 YAML nodes once its aliases are expanded" in err
    limit_error(err, "yaml-nodes")


@pytest.mark.parametrize("value,line_col", [
    ("[" * 5000 + "]" * 5000, "8:107"),       # past libyaml's own limit: the pure-Python loader's
    ("[" * 150 + "]" * 150, "8:107"),         # within libyaml's: the builder's
    ("{a: " * 150 + "1" + "}" * 150, "8:407"),
    ("&c [*c]", "8:7"),                        # an alias inside its own anchor
])
def test_deep_nesting(tmp_path, value, line_col):
    code, err = xendrvgen(tmp_path, "plan", "--spec", str(write(tmp_path, with_extra_key(f"deep: {value}\n"))))
    assert code == 2 and f"spec.yaml:{line_col}: the document nests deeper than 100 levels" in err, err
    limit_error(err, "yaml-depth")


def test_deep_nesting_without_libyaml(monkeypatch):
    monkeypatch.setattr(loader, "_Loader", loader._PyLoader)
    with pytest.raises(SpecError) as exc:
        loader.load_text(with_extra_key("deep: " + "[" * 5000 + "]" * 5000 + "\n"), "x.yaml")
    assert str(exc.value).startswith("x.yaml:8:107: the document nests deeper than 100 levels")


@pytest.mark.parametrize("value,message", [
    ("9" * 5000, "this value cannot be read: Exceeds the limit (4300 digits)"),
    ("2024-13-45", "this value cannot be read: month must be in 1..12"),
])
def test_scalars_python_cannot_build(value, message):
    with pytest.raises(SpecError) as exc:
        loader.load_text(with_extra_key(f"big: {value}\n"), "x.yaml")
    assert str(exc.value).startswith(f"x.yaml:8:6: {message}")


# --- the spec's checks -----------------------------------------------------

def test_description_too_long():
    old = "        description: Grant of the data page.\n"
    err = spec_error(SPEC.replace(old, "        description: " + "a" * 10_001 + "\n"), "description-chars")
    assert "In field 'gref': its description has 10,001 characters, more than 10,000 characters" in err


def test_struct_with_too_many_fields():
    n = limits.get("struct-fields") + 1
    offsets = ", ".join(f"f{i}: {i}" for i in range(n))
    struct = (f"  - name: xbig\n    description: big\n    fields:\n"
              + "".join(f"      - {{name: f{i}, type: uint8_t}}\n" for i in range(n))
              + "    layout:\n" + "".join(f"      {abi}: {{size: {n}, align: 1, offsets: {{{offsets}}}}}\n"
                                          for abi in ("x86_32", "x86_64", "arm32", "arm64")))
    at = SPEC.index("  - name: blkif_request_segment\n")
    err = spec_error(SPEC[:at] + struct + SPEC[at:], "struct-fields")
    assert "In struct 'xbig': has 1,001 fields, more than 1,000 fields" in err


# --- headers ---------------------------------------------------------------

def header_copy(tmp_path: Path, before: str, extra: str = "", files: dict | None = None) -> Path:
    """A private copy of Xen's headers, `extra` inserted in blkif.h before `before`."""
    dst = tmp_path / "xen"
    shutil.copytree(XEN_DIR, dst)
    blkif = dst / "io" / "blkif.h"
    text = blkif.read_text()
    assert text.count(before) == 1
    blkif.write_text(text.replace(before, extra + before))
    for name, content in (files or {}).items():
        (dst / "io" / name).write_text(content)
    return blkif


def validate(tmp_path: Path, header: Path, env: dict | None = None, timeout: float = 20):
    code, err = xendrvgen(tmp_path, "validate", "--header", str(header), env=env, timeout=timeout)
    assert not leftovers(tmp_path)
    return code, err


RING = '#include "ring.h"\n'


@needs_xen
def test_header_including_dev_zero(tmp_path):
    # gcc reads /dev/zero into memory without end (20 GB here before the limit)
    code, err = validate(tmp_path, header_copy(tmp_path, RING, '#include "/dev/zero"\n'))
    assert code == 2 and "the preprocessor needed more than 512 MiB of memory" in err, err
    limit_error(err, "cpp-memory")


@needs_xen
def test_header_including_dev_zero_for_clang_only(tmp_path):
    # libclang reads only the files gcc read
    blkif = header_copy(tmp_path, RING, '#ifdef __clang__\n#include "/dev/zero"\n#endif\n')
    code, err = validate(tmp_path, blkif)
    assert code == 2 and f"{blkif}:15:10: In ABI x86_32: clang: '/dev/zero' file not found" in err, err


@needs_xen
def test_c_nested_deeper_than_clang_can_parse(tmp_path):
    # 30,000 unary minus signs overflow the stack of clang's recursive parser
    # (SIGSEGV); only clang sees them, so pycparser's depth limit cannot help
    deep = "#ifdef __clang__\nenum { XDG_DEEP = " + "- " * 30_000 + "1 };\n#endif\n"
    blkif = header_copy(tmp_path, RING, deep)
    code, err = validate(tmp_path, blkif)
    assert code == 2, err
    assert f"{blkif}: libclang stopped reading the header (it was killed by SIGSEGV): C nested deeper " \
        "than clang's parser can follow" in err, err


@needs_xen
def test_header_including_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    blkif = header_copy(tmp_path, RING, f'#include "{tmp_path / "fifo"}"\n')
    code, err = validate(tmp_path, blkif, env={"XENDRVGEN_LIMITS": "cpp-seconds=1"}, timeout=15)
    assert code == 2 and "the preprocessor did not finish within 1 seconds" in err, err
    limit_error(err, "cpp-seconds")


@needs_xen
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)])
def test_interrupted_analysis_leaves_nothing(tmp_path, sig, code):
    os.mkfifo(tmp_path / "fifo")
    blkif = header_copy(tmp_path, RING, f'#include "{tmp_path / "fifo"}"\n')
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "XENDRVGEN_NO_CACHE": "1", "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "xendrvgen.cli", "validate", "--header", str(blkif)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=_cap_memory)
    try:
        for _ in range(200):             # until gcc waits on the FIFO
            if any("cc1" in p for p in processes(tmp_path)):
                break
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(sig)
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("xendrvgen did not stop on the signal")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == code
    assert not leftovers(tmp_path)


@needs_xen
def test_preprocessed_header_too_large(tmp_path):
    # 2**20 copies of "x ": 2 MiB of gcc output from a few lines
    defines = "#define XDG_E0 x\n" + "".join(f"#define XDG_E{i} XDG_E{i - 1} XDG_E{i - 1}\n" for i in range(1, 21))
    code, err = validate(tmp_path, header_copy(tmp_path, RING, defines + "int xdg_big = XDG_E20;\n"))
    assert code == 2 and "the preprocessed header is larger than 1 MiB" in err, err
    limit_error(err, "cpp-output")


@needs_xen
def test_exponential_macros(tmp_path):
    # unused by the C code, so gcc never expands them; evaluating XDG_E40 did (2**40)
    defines = "#define XDG_E0 1\n" + "".join(f"#define XDG_E{i} (XDG_E{i - 1} + XDG_E{i - 1})\n"
                                             for i in range(1, 41))
    blkif = header_copy(tmp_path, RING, defines)
    code, err = validate(tmp_path, blkif, timeout=15)
    assert code == 2 and f"{blkif}:25: macro 'XDG_E11' brings the expansions of the header's macros " \
        "past 65,536 characters" in err, err
    limit_error(err, "macro-expansion")


@needs_xen
def test_macros_nested_too_deeply(tmp_path):
    defines = "#define XDG_C0 1\n" + "".join(f"#define XDG_C{i} XDG_C{i - 1}\n" for i in range(1, 1000))
    code, err = validate(tmp_path, header_copy(tmp_path, RING, defines))
    assert code == 2 and "macro 'XDG_C101' names macros nested deeper than 100 levels" in err, err
    limit_error(err, "macro-depth")


@needs_xen
def test_long_typedef_chain(tmp_path):
    # in a file not the header's own: its typedefs are gathered as needed
    n = 3000
    chain = f"typedef int XT{n};\n" + "".join(f"typedef XT{i + 1} XT{i};\n" for i in range(n - 1, -1, -1))
    blkif = header_copy(tmp_path, RING, '#include "chain.h"\nstruct xdg_use { XT0 x; };\n', {"chain.h": chain})
    code, err = validate(tmp_path, blkif)
    assert code == 2 and "is defined through more than 100 levels of typedefs" in err, err
    limit_error(err, "c-depth")


@needs_xen
def test_structs_nested_too_deeply(tmp_path):
    nested = "struct xdg_n {" + "struct {" * 150 + "int a;" + "} f;" * 150 + "};\n"
    code, err = validate(tmp_path, header_copy(tmp_path, RING, nested))
    assert code == 2, err
    limit_error(err, "c-depth")


@needs_xen
def test_analysis_time_limit(tmp_path):
    code, err = validate(tmp_path, XEN_DIR / "io" / "blkif.h", env={"XENDRVGEN_LIMITS": "header-seconds=0.001"})
    assert code == 2 and "the analysis of the header took longer than 0.001 seconds" in err, err
    limit_error(err, "header-seconds")


def test_docs_state_the_limits_the_code_enforces():
    from xendrvgen.base import limits
    doc = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    assert limits.markdown() in doc, "docs/security.md: paste the output of limits.markdown()"
