"""Hostile-frontend fuzzing of the generated backend's request path (issue 10).

The request checks, ABI selection, ABI translation and response writers the
generated backends share run on the host in a libFuzzer target built with
ASan and UBSan (tests/backendfuzz.py, tests/harness/fuzz_backend.c.j2): the
fuzzer chooses the negotiated state and the bytes of every ring slot and
granted page, an attacker thread rewrites the ring while the backend reads
it, and every request is held to an independent reference.  A smoke run of
bounded time must serve a million requests with no finding, and faults put
back into the rendered code must each be found.
"""
from __future__ import annotations

import os
import shutil

import pytest

import backendfuzz as bf

SMOKE_SECONDS = int(os.environ.get("XENDRVGEN_FUZZ_SECONDS", "45"))
MIN_REQUESTS = 1_000_000
MIN_INPUTS = 20_000


@pytest.fixture(scope="module")
def cc():
    path, why = bf.clang()
    if path is None:
        pytest.skip(why)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("backend-fuzz")


@pytest.fixture(scope="module")
def seeds(spec, plan, work):
    return bf.write_corpus(spec, plan, work / "seeds")


@pytest.fixture(scope="module")
def build(cc, spec, plan, work):
    """build(fault=None, sanitizers=...) -> the target, built once per variant."""
    built = {}

    def get(fault=None, sanitizers="address,undefined"):
        key = (fault, sanitizers)
        if key not in built:
            name = "-".join(str(k) for k in key if k).replace(",", "+") or "plain"
            d = work / f"build-{name}"
            src, inc = bf.render_harness(spec, plan, d, fault)
            built[key] = bf.build(cc, src, inc, d / "fuzz_backend", sanitizers)
        return built[key]
    return get


def corpus_from(seeds, d):
    d.mkdir(parents=True, exist_ok=True)
    for p in seeds:
        shutil.copy(p, d / p.name)
    return d


def test_seeds_are_served_as_valid_requests(build, seeds, work):
    """Every seed is a valid request of its kind: served OKAY by the backend and by the reference."""
    quiet = [p for p in seeds if not p.name.endswith("-attacked")]
    res = bf.run(build(), quiet, work / "seed-run")
    assert res.finding is None, res.log[-3000:]
    assert res.stats["requests"] > 0 and res.stats["ok"] == res.stats["requests"], res.stats
    assert res.stats["indirect"] > 0
    names = {p.name for p in seeds}
    for abi in ("x86_64", "x86_32", "x86_64-translated"):
        for kind in ("read", "write", "flush", "barrier", "discard", "indirect-read", "indirect-write"):
            assert f"{abi}-{kind}" in names
    # attacked, the same requests may turn into anything, but no finding
    attacked = bf.run(build(), [p for p in seeds if p not in quiet], work / "seed-run-attacked")
    assert attacked.finding is None and attacked.stats["attacked"] > 0, attacked.log[-3000:]


def test_smoke_run_serves_a_million_hostile_requests(build, seeds, work):
    """libFuzzer in bounded rounds: no sanitizer finding, no broken invariant, and at
    least a million backend requests (one input holds many)."""
    res = bf.run_until(build(), corpus_from(seeds, work / "smoke-corpus"), work / "smoke",
                       min_requests=MIN_REQUESTS, seconds=SMOKE_SECONDS)
    print("\nbackend fuzz smoke run:", res.summary())
    assert res.finding is None, f"{res.finding}\n{res.log[-4000:]}\ninput: {res.artifacts}"
    assert res.execs >= MIN_INPUTS, res.summary()
    assert res.requests >= MIN_REQUESTS, res.summary()
    # the fuzzer reached every answer and the hostile corners, not just valid requests
    s = res.stats
    assert min(s["ok"], s["error"], s["eopnotsupp"], s["attacked"], s["broken"], s["refused"]) > 0, s


def test_memory_sanitizer_run(build, seeds, work):
    """Under MemorySanitizer, every response byte the backend writes was initialised."""
    res = bf.run(build(sanitizers="memory"), [corpus_from(seeds, work / "msan-corpus")], work / "msan",
                 seconds=8)
    print("\nbackend fuzz MSan run:", res.summary())
    assert res.finding is None, f"{res.finding}\n{res.log[-4000:]}"
    assert res.execs > 1000


# The sanitizer each fault is built with, and what its report must say.
FAULT_BUILD = {
    "nr_segments_bound": ("address,undefined", ("AddressSanitizer", "runtime error", "INVARIANT")),
    "slot_read_twice": ("address,undefined", ("read the shared slot again",)),
    "response_padding": ("memory", ("MemorySanitizer: use-of-uninitialized-value",)),
    "indirect_outer_op": ("address,undefined", ("INVARIANT",)),
}


@pytest.mark.parametrize("fault", sorted(bf.FAULTS))
def test_a_fault_put_back_is_found(build, seeds, work, fault):
    """The fuzzer finds each fault from the seeds alone, and the input it keeps is a
    regression input: the faulty backend fails on it, the real one serves it."""
    sanitizers, says = FAULT_BUILD[fault]
    d = work / f"fault-{fault}"
    res = bf.run(build(fault, sanitizers=sanitizers), [corpus_from(seeds, d / "corpus")], d / "run", seconds=60)
    assert res.finding is not None, f"{bf.FAULTS[fault][0]}: not found in {res.summary()}"
    assert any(s in res.log for s in says), f"{fault}: {res.finding}\n{res.log[-3000:]}"
    assert res.artifacts, res.log[-2000:]
    again = bf.run(build(fault, sanitizers=sanitizers), res.artifacts[:1], d / "again", runs=200)
    assert again.finding is not None, f"{fault}: the kept input {res.artifacts[0].name} no longer fails"
    ok = bf.run(build(sanitizers=sanitizers), res.artifacts[:1], d / "real")
    assert ok.finding is None, ok.log[-3000:]


def test_unnegotiated_indirect_request_is_answered_with_its_inner_operation(build, spec, plan, work):
    """The fuzzer's first finding in the templates, kept as a fixed input: an indirect
    request when indirect segments were not offered gets EOPNOTSUPP naming its inner
    operation.  The backend with the old check order fails on the same input."""
    a = bf.abis(spec, plan)[0]
    data = bf.header(a.proto, bf.ALL, indirect=0, nslots=1) + a.slot(6, id=7, inner=0, nr=1, grefs=[1])
    p = work / "unnegotiated-indirect"
    p.write_bytes(data)
    fixed = bf.run(build(), [p], work / "unnegotiated-fixed")
    assert fixed.finding is None, fixed.log[-2000:]
    old = bf.run(build("indirect_outer_op"), [p], work / "unnegotiated-old")
    assert old.finding is not None and "answered status -2 op 6" in old.log, old.log[-2000:]

