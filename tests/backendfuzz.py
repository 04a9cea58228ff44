"""Coverage-guided fuzzing of the generated backend's request path on the host.

tests/harness/fuzz_backend.c.j2 is a libFuzzer target holding the backend's
request checks, ABI selection and response writer as every OS renders them
(templates/common/_driver.j2 with the FreeBSD kit and headers), the ABI
translation of the generated blkif_abi.h, a host backend that strings them
together as the FreeBSD template does over a real shared ring, an in-memory
disk, an attacker thread that rewrites the ring while the backend reads it,
and an independent reference that says what each request deserves.  This
module renders and builds it with clang (ASan, UBSan), writes a seed corpus
of valid requests of every kind for both x86 ABIs, runs libFuzzer and reads
its figures; tests/test_backend_fuzz.py and bench/fuzz_backend.py use it.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from xendrvgen.spec import osprofile
from xendrvgen.render import environment as render
from xendrvgen.render.fieldaccess import Layout
from xendrvgen.compile import _cbuild
from xendrvgen.spec.model import C_BASE_TYPES
from xendrvgen.base.paths import PROFILES_DIR, TEMPLATES_DIR

HARNESS = Path(__file__).resolve().parent / "harness"
# Debian: clang, and libclang-rt-dev for libFuzzer and the sanitizer runtimes.
PACKAGES = "clang libclang-rt-dev"
HOST_ABI = "x86_64"
HEADER = 16
POOL_PAGES = 16
MAX_ORDER = 2
MAX_CAPACITY = 1024
MAX_LEN = 16384
PAGE = 4096

# Features byte of the input (see fz_parse).
BARRIER, FLUSH, DISCARD, READONLY, SECURE, ATTACK, X86_64_VARIANT, BIG_BLOCKS = (1 << i for i in range(8))

# Faults put back into the rendered program: (what it is, text, replacement, how many).
FAULTS = {
    "nr_segments_bound": (
        "the check nr_segments of direct requests loses its bound BLKIF_MAX_SEGMENTS_PER_REQUEST",
        "n > BLKIF_MAX_SEGMENTS_PER_REQUEST || ", "", 4),
    "slot_read_twice": (
        "the backend checks the shared ring slot instead of its private copy (a double fetch, XSA-155)",
        "status = fz_check(copy, ", "status = fz_check(r->cfg->abi == FZ_ABI_NATIVE ? fz_shared_slot(r) : copy, ", 1),
    "response_padding": (
        "the native response writer no longer zeroes its buffer: padding bytes leak the backend's stack",
        "\tbzero(buf, sizeof(buf));\n", "", 1),
    "indirect_outer_op": (
        "an indirect request refused because indirect segments were not offered is answered naming "
        "BLKIF_OP_INDIRECT, not its inner operation (Linux's blkfront stops the disk on 'response has "
        "wrong operation'; this fuzzer found it in our templates)",
        "if (neg->indirect_segments == 0) {\n", "if (neg->indirect_segments == 0) {\n\t\t\tq->op = q->operation;\n", 1),
}



def clang() -> tuple[str | None, str]:
    """clang able to build a libFuzzer target with ASan and UBSan, or None and why not."""
    cc = shutil.which("clang")
    if cc is None:
        return None, f"clang is not installed (apt-get install {PACKAGES})"
    if platform.machine() not in ("x86_64", "amd64"):
        return None, "the fuzz harness runs on x86_64 hosts only"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "t.c"
        src.write_text("#include <stddef.h>\n#include <stdint.h>\n"
                       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
                       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
        r = subprocess.run([cc, "-fsanitize=fuzzer,address,undefined", str(src), "-o", str(Path(tmp) / "t")],
                           capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"clang cannot link libFuzzer (apt-get install {PACKAGES}): {r.stderr.strip()[-300:]}"
    return cc, ""


# --- what the template needs of the spec -------------------------------------------------

def _offsets(spec, name: str, abi: str) -> dict:
    return spec.struct(name).layouts[abi].offsets


def _leaves(spec) -> list[dict]:
    """Every non-padding scalar of each request kind, at its offset per ABI and natively."""
    kinds = {"blkif_request": 0, "blkif_request_discard": 1, "blkif_request_indirect": 2}
    seg = spec.struct("blkif_request_segment")
    out = []
    for name, kind in kinds.items():
        st = spec.struct(name)
        for f in st.fields:
            if f.padding or f.name == "operation":
                continue
            parts = [(f.name, 0, f.base)]
            if f.is_struct:
                parts = [(f"{f.name}.{g.name}", seg.layouts[HOST_ABI].offsets[g.name], g.base)
                         for g in seg.fields if not g.padding]
            step = seg.layouts[HOST_ABI].size if f.is_struct else _size(f.base)
            for i in range(f.count or 1):
                for label, sub, base in parts:
                    off = {a: st.layouts[a].offsets[f.name] + i * step + sub for a in ("x86_32", "x86_64")}
                    out.append({"kind": kind, "size": _size(base), "off": off, "native": off[HOST_ABI],
                                "name": f"{label}[{i}]" if f.count else label})
    return out


def _size(base: str) -> int:
    return C_BASE_TYPES[base]


def layout(spec, abi: str) -> dict:
    """The byte offsets the reference and the seeds use, from the spec's layouts."""
    rw, dc, ind = (_offsets(spec, n, abi) for n in ("blkif_request", "blkif_request_discard", "blkif_request_indirect"))
    seg = spec.struct("blkif_request_segment").layouts[abi]
    rsp = spec.struct(spec.ring.response).layouts[abi]
    return {
        "slot": spec.ring.layouts[abi].entry_size, "rsp": rsp.size, "op": rw["operation"],
        "rw_nr_segments": rw["nr_segments"], "rw_id": rw["id"], "rw_sector": rw["sector_number"], "rw_seg": rw["seg"],
        "dc_flag": dc["flag"], "dc_sector": dc["sector_number"], "dc_nr_sectors": dc["nr_sectors"],
        "in_op": ind["indirect_op"], "in_nr_segments": ind["nr_segments"], "in_sector": ind["sector_number"],
        "in_grefs": ind["indirect_grefs"], "seg_size": seg.size, "seg_gref": seg.offsets["gref"],
        "seg_first": seg.offsets["first_sect"], "seg_last": seg.offsets["last_sect"],
        "rsp_id": rsp.offsets["id"], "rsp_op": rsp.offsets["operation"], "rsp_status": rsp.offsets["status"],
    }


def protocols(plan) -> list[str]:
    """What the input may have the frontend write to `protocol`: every name of the spec, and junk."""
    return [p.value for p in plan.transport.protocols] + ["", "x86_32"]


def context(spec, plan) -> dict:
    abis = [{"enum": "FZ_ABI_NATIVE", "layout": HOST_ABI, "variant": None}]
    abis += [{"enum": f"FZ_ABI_{p.variant.upper()}", "layout": p.variant, "variant": p.variant}
             for p in plan.transport.protocols if p.variant]
    for a in abis:
        a["offsets"] = layout(spec, a["layout"])
    keys = list(abis[0]["offsets"])
    slot_max = max(a["offsets"]["slot"] for a in abis)
    return {
        "abis": abis, "layout_keys": keys, "leaves": _leaves(spec), "protocols": protocols(plan),
        "pool_pages": POOL_PAGES, "max_order": MAX_ORDER, "max_capacity": MAX_CAPACITY, "header_size": HEADER,
        "slot_max": slot_max, "max_slots": (PAGE << MAX_ORDER) // min(a["offsets"]["slot"] for a in abis),
        "native_variant": f"FZ_ABI_{HOST_ABI.upper()}",
    }


# --- render and build --------------------------------------------------------------------

def render_harness(spec, plan, out: Path, fault: str | None = None) -> tuple[Path, Path]:
    """The harness source and the directory of the FreeBSD protocol headers it includes."""
    profile = osprofile.load(PROFILES_DIR / "freebsd.yaml")
    inc = out / "include"
    inc.mkdir(parents=True, exist_ok=True)
    for f in render.render_all(spec, [profile]):
        if f.path.endswith(("/blkif.h", "/blkif_abi.h")):
            (inc / Path(f.path).name).write_text(f.text)
    env = render.environment(TEMPLATES_DIR)
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(HARNESS)), env.loader])
    text = env.get_template("fuzz_backend.c.j2").render(
        spec=spec, os=profile, plan=plan, layout=Layout(spec, profile),
        **context(spec, plan))
    if fault is not None:
        _what, old, new, count = FAULTS[fault]
        assert text.count(old) == count, f"fault {fault}: {old!r} found {text.count(old)} times, not {count}"
        text = text.replace(old, new)
        if fault == "slot_read_twice":
            text = text.replace("/* As xbb_dispatch:", _SHARED_SLOT + "/* As xbb_dispatch:", 1)
    src = out / f"fuzz_backend{'_' + fault if fault else ''}.c"
    src.write_text(text)
    return src, inc


# The fault's helper: the slot in the shared ring the request came from, seen natively.
_SHARED_SLOT = """static const struct blkif_request *
fz_shared_slot(struct fz_run *r)
{
\treturn (RING_GET_REQUEST(&r->rings.native, r->rings.native.req_cons - 1));
}

"""


def build(cc: str, src: Path, inc: Path, exe: Path, sanitizers: str = "address,undefined") -> Path:
    """Build the target; every warning is an error, every sanitizer finding fatal."""
    cmd = [cc, "-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-function", "-Wno-unused-parameter",
           "-Werror", f"-fsanitize=fuzzer,{sanitizers}", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
           "-pthread", "-I", str(inc), "-I", str(_cbuild.xen_public_dir() / "io"), str(src), "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{r.stderr}")
    return exe


# --- seeds -------------------------------------------------------------------------------

def header(proto: int, features: int, *, indirect: int = 256, order: int = 0, nslots: int = 0, extra: int = 0,
           seed: int = 1, start: int = 0, capacity: int = MAX_CAPACITY) -> bytes:
    return struct.pack("<BBHBBBBIHH", proto, features, indirect, order, nslots, extra, seed, start, capacity, 0)


@dataclass
class Abi:
    """One frontend layout the seeds are written in."""
    name: str               # seed file prefix
    proto: int              # index into protocols()
    features: int           # extra feature bits (the forced x86_64 variant)
    L: dict = field(default_factory=dict)

    def slot(self, op: int, *, id: int, sector: int = 0, segs=(), inner: int | None = None, nr: int | None = None,
             grefs=(), flag: int = 0, nr_sectors: int = 0) -> bytes:
        L = self.L
        b = bytearray(L["slot"])
        b[L["op"]] = op
        if op == 6:           # BLKIF_OP_INDIRECT
            b[L["in_op"]] = inner
            struct.pack_into("<H", b, L["in_nr_segments"], nr)
            struct.pack_into("<Q", b, L["in_sector"], sector)
            for i, g in enumerate(grefs):
                struct.pack_into("<I", b, L["in_grefs"] + 4 * i, g)
        elif op == 5:         # BLKIF_OP_DISCARD
            b[L["dc_flag"]] = flag
            struct.pack_into("<QQ", b, L["dc_sector"], sector, nr_sectors)
        else:
            b[L["rw_nr_segments"]] = len(segs)
            struct.pack_into("<Q", b, L["rw_sector"], sector)
            for i, s in enumerate(segs):
                self.seg_into(b, L["rw_seg"] + i * L["seg_size"], *s)
        struct.pack_into("<Q", b, L["rw_id"], id)
        return bytes(b)

    def seg_into(self, b: bytearray, at: int, gref: int, first: int, last: int) -> None:
        struct.pack_into("<I", b, at + self.L["seg_gref"], gref)
        b[at + self.L["seg_first"]] = first
        b[at + self.L["seg_last"]] = last

    def descriptors(self, segs) -> bytes:
        b = bytearray(len(segs) * self.L["seg_size"])
        for i, s in enumerate(segs):
            self.seg_into(b, i * self.L["seg_size"], *s)
        return bytes(b)


def abis(spec, plan) -> list[Abi]:
    names = protocols(plan)
    return [Abi("x86_64", names.index("x86_64-abi"), 0, layout(spec, HOST_ABI)),
            Abi("x86_32", names.index("x86_32-abi"), 0, layout(spec, "x86_32")),
            Abi("x86_64-translated", names.index("x86_64-abi"), X86_64_VARIANT, layout(spec, HOST_ABI))]


def _requests(a: Abi, block: int) -> dict[str, bytes]:
    """One valid request of each kind (sectors in multiples of `block`); the indirect ones
    take their descriptors from granted page 1."""
    return {
        "read": a.slot(0, id=0x1111, sector=8 * block, segs=[(2, 0, 7), (3, 0, 7 if block > 1 else 3)]),
        "write": a.slot(1, id=0x2222, sector=16 * block, segs=[(4, 0, 7)]),
        "flush": a.slot(3, id=0x3333),
        "barrier": a.slot(2, id=0x4444, sector=24 * block, segs=[(5, 0, 7)]),
        "discard": a.slot(5, id=0x5555, sector=32 * block, nr_sectors=16 * block),
        "indirect-read": a.slot(6, id=0x6666, inner=0, nr=20, sector=64 * block, grefs=[1]),
        "indirect-write": a.slot(6, id=0x7777, inner=1, nr=100 if block == 1 else 12, sector=96 * block, grefs=[1]),
    }


def _descriptor_page(a: Abi, block: int) -> bytes:
    # 100 segments over pages 7..14: single sectors, or whole 4096-byte blocks
    segs = [(7 + i % 8, 0, 7) if block > 1 else (7 + i % 8, i % 8, i % 8) for i in range(100)]
    return a.descriptors(segs)


ALL = BARRIER | FLUSH | DISCARD | SECURE


def seeds(spec, plan) -> dict[str, bytes]:
    """Valid inputs: every kind for each ABI, all kinds in one ring, attacked, 4K blocks, and more."""
    out = {}
    for a in abis(spec, plan):
        feats = ALL | a.features
        reqs = _requests(a, 1)
        page = _descriptor_page(a, 1)
        for kind, slot in reqs.items():
            out[f"{a.name}-{kind}"] = header(a.proto, feats, nslots=3) + slot * 3 + page
        every = b"".join(reqs.values())
        n = len(reqs)
        out[f"{a.name}-every-kind"] = header(a.proto, feats, nslots=n) + every + page
        out[f"{a.name}-every-kind-attacked"] = header(a.proto, feats | ATTACK, nslots=n) + every + page
        out[f"{a.name}-index-wrap"] = header(a.proto, feats, nslots=n, start=0xFFFFFFFC) + every + page
        full = every * 10
        out[f"{a.name}-two-page-ring"] = header(a.proto, feats, order=1, nslots=64) + full[:64 * a.L["slot"]] + page
        big = _requests(a, 8)
        out[f"{a.name}-4k-blocks"] = (header(a.proto, feats | BIG_BLOCKS, nslots=n) + b"".join(big.values())
                                      + _descriptor_page(a, 8))
    return out


def write_corpus(spec, plan, d: Path) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in seeds(spec, plan).items():
        p = d / name
        p.write_bytes(data)
        paths.append(p)
    return paths


# --- running -----------------------------------------------------------------------------

@dataclass
class Result:
    returncode: int
    log: str
    stats: dict
    execs: int = 0
    execs_per_s: int = 0
    cov: int = 0
    ft: int = 0
    seconds: float = 0.0
    artifacts: list = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.stats.get("requests", 0)

    @property
    def finding(self) -> str | None:
        """The first sanitizer report or broken invariant, if any."""
        m = re.search(r"^(INVARIANT: .*|.*runtime error: .*|==\d+==ERROR: .*|.*deadly signal.*)$", self.log, re.M)
        return m.group(1) if m else (None if self.returncode == 0 else f"exit status {self.returncode}")

    def summary(self) -> str:
        s = self.stats
        return (f"{self.execs} inputs, {self.requests} backend requests in {self.seconds:.0f} s: "
                f"{self.execs_per_s} inputs/s, {int(self.requests / max(self.seconds, 1e-9))} requests/s; "
                f"cov {self.cov} ft {self.ft}; answers ok {s.get('ok', 0)} error {s.get('error', 0)} "
                f"eopnotsupp {s.get('eopnotsupp', 0)}; {s.get('indirect', 0)} indirect, {s.get('attacked', 0)} "
                f"inputs attacked, {s.get('broken', 0)} broken rings, {s.get('refused', 0)} protocols refused")


def env() -> dict:
    e = dict(os.environ)
    e["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:" + e.get("ASAN_OPTIONS", "")
    e["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:" + e.get("UBSAN_OPTIONS", "")
    return e


def run(exe: Path, inputs: list[Path], work: Path, *, seconds: int | None = None, runs: int | None = None,
        args: tuple = ()) -> Result:
    """libFuzzer over `inputs` (a corpus directory first, or files to run as they are)."""
    work.mkdir(parents=True, exist_ok=True)
    stats = work / "stats.json"
    stats.unlink(missing_ok=True)
    cmd = [str(exe), f"-max_len={MAX_LEN}", f"-artifact_prefix={work}/", "-print_final_stats=1", "-timeout=20",
           "-rss_limit_mb=2048", *args]
    if seconds is not None:
        cmd.append(f"-max_total_time={seconds}")
    if runs is not None:
        cmd.append(f"-runs={runs}")
    cmd += [str(p) for p in inputs]
    e = env()
    e["FZ_STATS"] = str(stats)
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=work,
                       timeout=(seconds or 60) * 3 + 120)
    log = r.stdout + r.stderr
    res = Result(r.returncode, log, json.loads(stats.read_text()) if stats.exists() else {})
    for m in re.finditer(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)", log, re.M):
        res.execs, res.cov, res.ft = int(m.group(1)), int(m.group(2)), int(m.group(3))
    m = re.search(r"stat::number_of_executed_units: (\d+)", log)
    if m:
        res.execs = int(m.group(1))
    m = re.search(r"stat::average_exec_per_sec:\s+(\d+)", log)
    if m:
        res.execs_per_s = int(m.group(1))
    if res.execs_per_s:
        res.seconds = res.execs / res.execs_per_s
    res.artifacts = sorted(work.glob("crash-*")) + sorted(work.glob("leak-*")) + sorted(work.glob("timeout-*"))
    return res


def run_until(exe: Path, corpus: Path, work: Path, *, min_requests: int, seconds: int,
              max_rounds: int = 4) -> Result:
    """Rounds of `seconds` over one growing corpus until `min_requests` backend requests
    were served, a finding, or `max_rounds`: a loaded machine takes more rounds, not a
    smaller run.  The figures are the rounds' sums (coverage: the last round's)."""
    total = Result(0, "", {})
    for i in range(max_rounds):
        r = run(exe, [corpus], work / f"round{i}", seconds=seconds)
        total.returncode = total.returncode or r.returncode
        total.log += r.log
        for k, v in r.stats.items():
            if isinstance(v, int):
                total.stats[k] = total.stats.get(k, 0) + v
        total.execs += r.execs
        total.seconds += r.seconds
        total.cov, total.ft = r.cov, r.ft
        total.artifacts += r.artifacts
        if r.finding is not None or total.requests >= min_requests:
            break
    total.execs_per_s = int(total.execs / max(total.seconds, 1e-9))
    return total

