"""The caches under hostile or damaged input (issue 15): a planted, corrupt
or stray cache file is a miss, never code run, a crash or a forged verdict."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from xendrvgen.cli import main

XEN_DIR = Path("/usr/include/xen")
ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "specs" / "blkif.yaml")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A private, empty cache directory.  The verdict cache, which would
    answer a repeated validate before the header facts are looked up, is
    off: its own damage tests are in test_verdict_cache.py."""
    from xendrvgen.headers.compare import verdictcache
    d = tmp_path / "cache"
    monkeypatch.setenv("XENDRVGEN_CACHE_DIR", str(d))
    monkeypatch.delenv("XENDRVGEN_NO_CACHE", raising=False)
    monkeypatch.setattr(verdictcache, "enabled", lambda: False)
    return d


@pytest.fixture
def header(tmp_path) -> Path:
    """A private copy of Xen's public headers; the path of its blkif.h."""
    if not (XEN_DIR / "io" / "blkif.h").exists():
        pytest.skip("needs Xen's headers: apt-get install libxen-dev")
    shutil.copytree(XEN_DIR, tmp_path / "xen")
    return tmp_path / "xen" / "io" / "blkif.h"


def validate(capsys, *args) -> tuple[int, str, str]:
    code = main(["validate", "--spec", SPEC, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def entry_of(cache: Path) -> Path:
    """The one header-facts entry in the cache."""
    entries = [p for p in (cache / "header-facts").iterdir() if not p.name.endswith(".tmp")]
    assert len(entries) == 1, entries
    return entries[0]


@pytest.fixture
def warm(cache, header, capsys):
    """A validate of the header copy that filled the cache: (output, entry, its bytes)."""
    code, out, err = validate(capsys, "--header", str(header))
    assert code == 0, out + err
    entry = entry_of(cache)
    return out, entry, entry.read_bytes()


# --- header facts: a data format that cannot run code ----------------------

class _Planted:
    """Unpickling this creates a file: what a planted pickle could do."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_pickle_runs_nothing(warm, header, tmp_path, capsys):
    out, entry, clean = warm
    marker = tmp_path / "pwned"
    entry.write_bytes(pickle.dumps({"files": [], "facts": _Planted(marker)}))
    code, out2, err = validate(capsys, "--header", str(header))
    assert not marker.exists()
    assert code == 0 and out2 == out, out2 + err
    assert entry.read_bytes() == clean        # recomputed and rewritten


def test_entry_is_versioned_json(warm):
    from xendrvgen.headers import factcache
    _, entry, clean = warm
    body = factcache.unseal(clean)
    assert body is not None
    data = json.loads(body)
    assert data["format"] == factcache.FORMAT and data["files"] and data["facts"]


def _flip(data: bytes, at: float) -> bytes:
    i = int(len(data) * at)
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def _resealed(edit):
    """A damage that keeps the entry's checksum valid: only the shape check sees it."""
    def damage(clean: bytes) -> bytes:
        from xendrvgen.headers import factcache
        return factcache.seal(edit(factcache.unseal(clean)))
    return damage


def _deep_type(body: bytes) -> bytes:
    """A wrong type deep inside: the offset of a field of a record layout becomes text."""
    data = json.loads(body)
    rows = data["facts"]["rows"]                      # the shared records
    layouts = data["facts"]["facts"][10]              # HeaderFacts.layouts: {abi: {tag: row}}
    record = rows[next(iter(next(iter(layouts.values())).values()))]
    field = rows[record[4][-1]]                       # its last FieldLayout
    field[1] = str(field[1])                          # FieldLayout.offset
    return json.dumps(data).encode()


def _rows_edit(edit):
    """A damage made by edit(shared rows, HeaderFacts list, its layouts on one ABI)."""
    def damage(body: bytes) -> bytes:
        data = json.loads(body)
        rows, facts = data["facts"]["rows"], data["facts"]["facts"]
        edit(rows, facts, next(iter(facts[10].values())))
        return json.dumps(data).encode()
    return _resealed(damage)


def _cycle(rows, facts, layouts):
    """A record one of whose fields is of the record itself."""
    row = next(iter(layouts.values()))
    rows[rows[row][4][0]][7] = row                    # FieldLayout.record


def _other_kind(rows, facts, layouts):
    """A layout reference to the row of a constant."""
    tag = next(iter(layouts))
    layouts[tag] = next(iter(next(iter(facts[5].values())).values()))


DAMAGES = {
    "flipped byte at the start": lambda b: _flip(b, 0.0),
    "flipped byte in the middle": lambda b: _flip(b, 0.5),
    "flipped byte near the end": lambda b: _flip(b, 0.97),
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "garbage": lambda b: b"{not json at all",
    "bad UTF-8": lambda b: b"\xff\xfe\x80" + b[3:],
    "garbage JSON, sealed": _resealed(lambda body: b"{not json"),
    "bad UTF-8, sealed": _resealed(lambda body: b'{"format": 2, "x": "\xff\xfe"}'),
    "wrong shape, sealed": _resealed(lambda body: b'[1, 2, 3]'),
    "facts of the wrong shape, sealed": _resealed(
        lambda body: json.dumps({**json.loads(body), "facts": {"path": 3}}).encode()),
    "old format, sealed": _resealed(lambda body: json.dumps({**json.loads(body), "format": 1}).encode()),
    "wrong type deep inside, sealed": _resealed(_deep_type),
    "row out of range, sealed": _rows_edit(lambda rows, facts, lay: lay.update(dict.fromkeys(lay, 10**6))),
    "row of another kind, sealed": _rows_edit(_other_kind),
    "row cycle, sealed": _rows_edit(_cycle),
    "bad regex, sealed": _rows_edit(lambda rows, facts, lay: facts[1].__setitem__(12, "a{99999999999}")),
    "deeply nested, sealed": _resealed(lambda body: b"[" * 100000 + b"]" * 100000),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_entry_is_a_miss(damage, warm, header, capsys):
    out, entry, clean = warm
    entry.write_bytes(DAMAGES[damage](clean))
    code, out2, err = validate(capsys, "--header", str(header))
    assert code == 0 and out2 == out, out2 + err
    assert entry.read_bytes() == clean        # recomputed and rewritten


def test_unreadable_entry_is_a_miss(warm, header, capsys):
    out, entry, clean = warm
    entry.unlink()
    entry.mkdir()                             # a directory where the entry should be
    code, out2, err = validate(capsys, "--header", str(header))
    assert code == 0 and out2 == out, out2 + err


class Hung(BaseException):
    """Not an OSError, so no `except OSError` takes it for a miss."""


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging (a FIFO read blocks until a writer comes)."""
    def expire(signum, frame):
        raise Hung(f"still blocked after {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_fifo_in_place_of_an_entry(warm, header, capsys):
    out, entry, clean = warm
    entry.unlink()
    os.mkfifo(entry)
    with deadline(20):
        code, out2, err = validate(capsys, "--header", str(header))
    assert code == 0 and out2 == out, out2 + err
    assert entry.read_bytes() == clean        # the FIFO replaced by the entry


def test_facts_round_trip(header, cache):
    from xendrvgen.headers import analyze, factcache
    facts = analyze(str(header))
    assert factcache.from_json(json.loads(json.dumps(factcache.to_json(facts)))) == facts
    assert analyze(str(header)) == facts      # the second comes from the cache


# --- header facts: keyed on content, not on size and mtime -----------------

def test_same_size_edit_with_mtime_restored(warm, header, capsys):
    st = header.stat()
    text = header.read_text()
    old, new = "#define BLKIF_OP_INDIRECT          6", "#define BLKIF_OP_INDIRECT          7"
    assert text.count(old) == 1
    header.write_text(text.replace(old, new))
    os.utime(header, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert header.stat().st_size == st.st_size and header.stat().st_mtime_ns == st.st_mtime_ns
    code, out, err = validate(capsys, "--header", str(header))
    assert code == 1, out + err
    assert "In constant 'BLKIF_OP_INDIRECT': value: spec 6, header 7" in out


# --- schema verdicts: a stray stamp file forges nothing --------------------

def _bad_spec(tmp_path: Path) -> Path:
    """A copy of the spec only the schema rejects (an unknown top-level key)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(SPEC).read_text() + "\nbogus_key: 1\n")
    return bad


@pytest.mark.parametrize("content", [b"", b"garbage", b"0" * 64])
def test_stray_schema_stamp_forges_no_pass(content, cache, tmp_path, capsys):
    from xendrvgen.spec import schema
    from xendrvgen.base.yamldoc import load_file
    bad = _bad_spec(tmp_path)
    stamp = schema._cache_stamp(schema.SCHEMA, load_file(bad))
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_bytes(content)
    code = main(["validate", "--spec", str(bad), "--header", str(XEN_DIR / "io" / "blkif.h")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "unknown key 'bogus_key'" in err


def test_stamp_of_another_text_forges_no_pass(cache, tmp_path):
    """Content copied from a genuine stamp of another document does not pass either."""
    from xendrvgen.spec import schema
    from xendrvgen.base.yamldoc import load_file, load_text
    good = load_file(SPEC)
    assert schema.violations(schema.SCHEMA, good) == []
    genuine = schema._cache_stamp(schema.SCHEMA, good)
    assert genuine.read_bytes()                # the verdict is bound to its input
    bad = load_file(_bad_spec(tmp_path))
    schema._cache_stamp(schema.SCHEMA, bad).write_bytes(genuine.read_bytes())
    assert schema.violations(schema.SCHEMA, bad)
    # A clean text given another's stamp is checked again, and gets its own.
    other = load_text(good.text + "\n", "x.yaml")
    stamp = schema._cache_stamp(schema.SCHEMA, other)
    stamp.write_bytes(genuine.read_bytes())
    assert schema.violations(schema.SCHEMA, other) == []
    assert stamp.read_bytes() not in (b"", genuine.read_bytes())


def test_fifo_schema_stamp(cache):
    from xendrvgen.spec import schema
    from xendrvgen.base.yamldoc import load_file
    doc = load_file(SPEC)
    stamp = schema._cache_stamp(schema.SCHEMA, doc)
    stamp.parent.mkdir(parents=True)
    os.mkfifo(stamp)
    with deadline(20):
        assert schema.violations(schema.SCHEMA, doc) == []
    assert stamp.is_file()                    # the FIFO replaced by a genuine stamp


def test_genuine_schema_stamp_is_used(cache, monkeypatch):
    """A clean verdict is still remembered: the second check needs no jsonschema."""
    from xendrvgen.spec import schema
    from xendrvgen.base.yamldoc import load_file
    doc = load_file(SPEC)
    assert schema.violations(schema.SCHEMA, doc) == []
    monkeypatch.setitem(sys.modules, "jsonschema", None)   # import jsonschema now fails
    assert schema.violations(schema.SCHEMA, doc) == []
