"""The translation functions, run: a request laid out as on x86_32 or x86_64
(bytes placed at the offsets of the spec's table, each field a distinct
pattern) is converted into the native layout by the generated
blkif_get_<variant>_req(), and every field lands where the native header
puts it, for each request kind and for an unknown operation; a response
written with blkif_put_<variant>_rsp() has every byte of its slot written,
padding zeroed.  Built with gcc for x86_64 (-m64) and for i386 (-m32), so
each variant is converted on an ABI other than its own, for an OS with
Xen's separate request structs and for Linux's union.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import cbuild
from xendrvgen.spec import osprofile
from xendrvgen.render.fieldaccess import Layout
from xendrvgen.render.packedlayout import field_size
from xendrvgen.spec import load

ROOT = Path(__file__).resolve().parents[1]
SPEC = load(ROOT / "specs" / "blkif.yaml")
PROFILES = {p.name: p for p in osprofile.load_many(None)}


def _pattern(seed: int, size: int) -> list[int]:
    return [(seed * 16 + i + 1) & 0xFF for i in range(size)]


def _leaves(fields, lay, abi):
    """(field, offset on the variant's ABI, bytes, member path suffix) of every
    scalar: arrays of structs are taken element by element, field by field,
    so the nested struct's own padding is not expected to travel."""
    for f in fields:
        off = lay.offsets[f.name]
        if not f.is_struct:
            yield f, off, field_size(SPEC, f, abi), ""
            continue
        inner = SPEC.struct(f.base)
        il = inner.layouts[abi]
        for k in range(f.count or 1):
            for g in inner.fields_on(abi):
                if g.padding:
                    continue
                sub = (f"[{k}]" if f.count else "") + f".{g.name}"
                yield f, off + k * il.size + il.offsets[g.name], field_size(SPEC, g, abi), sub


def program(prof) -> str:
    """A C program checking every conversion; prints 'ok' or the first failure."""
    native = Layout(SPEC, prof)
    req = SPEC.struct(SPEC.ring.request)
    rsp = SPEC.struct(SPEC.ring.response)
    fns = {k: prof.c["functions"][k] for k in ("get_request", "put_response")}
    out = ["#include <string.h>", "#include <stdio.h>", "static int failures;",
           "static void expect(const void *got, const unsigned char *want, size_t n, const char *what)",
           "{ if (memcmp(got, want, n) != 0) { printf(\"FAIL %s\\n\", what); failures++; } }",
           "int main(void) {"]
    for variant, vabi in SPEC.abi_variants:
        pascal = "".join(p[:1].upper() + p[1:] for p in variant.split("_"))
        get = fns["get_request"].replace("{variant}", variant).replace("{Variant}", pascal)
        put = fns["put_response"].replace("{variant}", variant).replace("{Variant}", pascal)
        vlay = Layout(SPEC, prof, variant)
        kinds = [(st, st.operations[0]) for st in SPEC.request_kinds()] + [(req, None)]
        for n, (st, op) in enumerate(kinds):
            lay = st.layouts[vabi]
            tag = f"{variant}_{st.name}_{op or 'unknown'}"
            out.append("{")
            out.append(f"  union {{ unsigned char b[{SPEC.struct(SPEC.ring.request).layouts[vabi].size}]; "
                       f"unsigned long long align; }} src;")
            out.append(f"  struct {native.outer} dst;")
            out.append("  memset(&src, 0, sizeof(src)); memset(&dst, 0, sizeof(dst));")
            checks = []
            fields = [f for f in st.fields_on(vabi) if not f.padding]
            for i, (f, off, size, sub) in enumerate(_leaves(fields, lay, vabi)):
                if f.name == "operation":
                    value = [SPEC.constant(op).value if op else 0xEE]
                else:
                    value = _pattern(n * 10 + i, size)
                arr = ", ".join(map(str, value))
                out.append(f"  {{ static const unsigned char v[] = {{{arr}}}; "
                           f"memcpy(src.b + {off}, v, sizeof(v)); }}")
                copied = op is not None or f.name in {g.name for g in rsp.fields}
                if copied:
                    path = (native.path(st, f.name) if op else native.echo_path(st, f.name)) + sub
                    checks.append(f"  {{ static const unsigned char v[] = {{{arr}}}; "
                                  f"expect((const unsigned char *)&dst + offsetof({native.container(st)}, {path}), "
                                  f"v, sizeof(v), \"{tag}.{f.name}{sub}\"); }}")
            out.append(f"  {get}(&dst, (const struct {vlay.outer} *)(const void *)src.b);")
            out.extend(checks)
            out.append("}")
        # Responses: every byte of the variant's slot is written.
        vr = rsp.layouts[vabi]
        out.append("{")
        out.append(f"  struct {rsp.name} r; struct {vlay.tag(rsp.name)} w; unsigned char want[{vr.size}];")
        out.append("  memset(&r, 0, sizeof(r)); memset(&w, 0xAA, sizeof(w)); memset(want, 0, sizeof(want));")
        for i, f in enumerate(rsp.fields_on(vabi)):
            size = field_size(SPEC, f, vabi)
            arr = ", ".join(map(str, _pattern(90 + i, size)))
            out.append(f"  {{ static const unsigned char v[] = {{{arr}}}; "
                       f"memcpy((unsigned char *)&r + offsetof(struct {rsp.name}, {f.name}), v, sizeof(v)); "
                       f"memcpy(want + {vr.offsets[f.name]}, v, sizeof(v)); }}")
        out.append(f"  {put}(&w, &r);")
        out.append(f"  expect(&w, want, sizeof(want), \"{variant} response bytes\");")
        out.append(f"  if (sizeof(w) != {vr.size}) {{ printf(\"FAIL {variant} response size\\n\"); failures++; }}")
        out.append("}")
    out.append('  if (!failures) printf("ok\\n");')
    out.append("  return failures != 0;")
    out.append("}")
    return "\n".join(out) + "\n"



@pytest.mark.skipif(not cbuild.have("gcc"), reason="gcc is not installed")
@pytest.mark.parametrize("bits", ["-m64", "-m32"])
@pytest.mark.parametrize("os_name", ["freebsd", "linux", "edk2"])
def test_translation_functions_move_every_field(generated, os_name, bits):
    prof = PROFILES[os_name]
    root = generated / os_name
    work = cbuild.tmpdir()
    try:
        flags = cbuild.include_flags(prof, root, work / "stubs")
        flags = [f for f in flags if not f.startswith("-idirafter")]
        flags += [f"-idirafter{d}" for d in prof.standalone.system_include_dirs if d != "/usr/include"]
        src = work / "t.c"
        src.write_text(prof.standalone.prelude
                       + f'#include "{root / prof.output_for("abi").path}"\n#include <stddef.h>\n'
                       + program(prof))
        exe = work / "t"
        cmd = ["gcc", bits, "-std=gnu11", *cbuild.WARN, "-Wno-unused-function", *flags, str(src), "-o", str(exe)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode and bits == "-m32" and "cannot find" in res.stderr:
            pytest.skip("no 32-bit C library (apt-get install gcc-multilib)")
        assert res.returncode == 0, res.stderr
        run = subprocess.run([str(exe)], capture_output=True, text=True)
        assert run.stdout == "ok\n" and run.returncode == 0, run.stdout + run.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_program_checks_something():
    text = program(PROFILES["freebsd"])
    assert text.count("expect(") > 40
    assert "blkif_get_x86_32_req(&dst" in text and "blkif_put_x86_64_rsp(&w, &r)" in text
