"""On-disk cache of HeaderFacts, keyed by everything an analysis reads.

Installed headers rarely change, yet analysing one costs gcc and libclang runs
on four ABIs (~0.15 s a header).  An entry records every file the analysis
read (libclang's include list, the header, its companions, the profile) with
the sha256 of its content; a lookup hashes them again (headers are small) and
reuses the facts only when each is unchanged.  The key also covers our own
analysis code and the toolchain (by size and mtime), so an upgrade of either
analyses afresh.  XENDRVGEN_NO_CACHE=1 turns the cache off.

An entry is data, never code: a line with the sha256 of the rest, then JSON
{"format", "files", "facts"}, the facts converted field by field with every
type checked (to_json, from_json).  Anything else found where an entry should
be (damaged, truncated, planted, of an older format) is a miss: the header is
analysed afresh and the entry rewritten.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path
from types import MappingProxyType

from xendrvgen import __version__
from xendrvgen.base import cachefile, inputstamp

FORMAT = 3
_MAX_BYTES = 16 << 20      # of an entry or a file read; real ones are under 0.1 MB
_MAGIC = b"xendrvgen-header-facts sha256="


def enabled() -> bool:
    return not os.environ.get("XENDRVGEN_NO_CACHE")


def _cache_dir() -> Path:
    from xendrvgen.base.paths import cache_dir
    return cache_dir() / "header-facts"


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _digest(path: str) -> str | None:
    """sha256 of a file the analysis read (None: gone, or no regular file)."""
    return cachefile.digest(path, _MAX_BYTES)


def _code_stamp() -> list:
    """Our analysis code and the tools it runs: a change of any re-analyses."""
    here = Path(__file__).resolve().parent
    files = sorted(str(p) for p in here.glob("*.py"))
    return [*[(f, _stamp(f)) for f in files], inputstamp.library_stamp(("clang",)), inputstamp.tool_stamp("gcc")]


def _key(path: str, profile_name: str, abis: tuple[str, ...]) -> Path:
    h = hashlib.sha256(repr((FORMAT, __version__, os.path.abspath(path), profile_name, abis,
                             _code_stamp())).encode())
    return _cache_dir() / f"{h.hexdigest()}.facts"


# --- the file: a checksum line, then JSON ------------------------------------

def seal(body: bytes) -> bytes:
    return _MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def unseal(data: bytes) -> bytes | None:
    """The JSON body of an entry, or None when the checksum does not hold
    (a flipped byte, a truncated write, a file we did not write)."""
    head, nl, body = data.partition(b"\n")
    if not nl or head != _MAGIC + hashlib.sha256(body).hexdigest().encode():
        return None
    return body


# --- facts <-> JSON, one converter per field ---------------------------------
#
# A converter turns one field's value into JSON data and back, checking every
# type on the way back.  Records that recur (a struct is the same on most
# ABIs; a nested one appears in many) are stored once in a table of rows and
# referenced by row number, so a lookup builds each only once.

class _Bad(ValueError):
    """JSON that is not what to_json writes."""


class _Table:
    """The shared records of one entry: rows, and what each became."""

    def __init__(self, rows: list):
        self.rows, self.index, self.built = rows, {}, {}


class _Conv:
    def __init__(self, enc, dec, kinds: tuple = ()):
        self.enc, self.dec = enc, dec    # enc(value, table) -> data; dec(data, table) -> value
        self.kinds = kinds               # a scalar's types: a record checks them without a call


def _need(kind: type, v):
    if type(v) is not kind:
        raise _Bad(f"{type(v).__name__} where {kind.__name__} belongs")
    return v


def _scalar(*kinds: type) -> _Conv:
    def dec(v, t):
        if type(v) not in kinds:        # type(): True is no int here
            raise _Bad(f"{type(v).__name__} where {'/'.join(k.__name__ for k in kinds)} belongs")
        return v
    return _Conv(lambda v, t: v, dec, kinds)


def _regex_dec(v, t):
    try:
        re.compile(_need(str, v))
    except (re.error, OverflowError):    # OverflowError: a{99999999999}
        raise _Bad("bad regex") from None
    return v


STR, INT, BOOL = _scalar(str), _scalar(int), _scalar(bool)
INT_OR_STR, OPT_STR, OPT_INT = _scalar(int, str), _scalar(str, type(None)), _scalar(int, type(None))
REGEX = _Conv(lambda v, t: v, _regex_dec)


def _opt(c: _Conv) -> _Conv:
    return _Conv(lambda v, t: None if v is None else c.enc(v, t),
                 lambda v, t: None if v is None else c.dec(v, t))


def _tuple(c: _Conv) -> _Conv:
    return _Conv(lambda v, t: [c.enc(x, t) for x in v],
                 lambda v, t: tuple([c.dec(x, t) for x in _need(list, v)]))


def _map(c: _Conv) -> _Conv:
    """A read-only mapping with text keys, as a JSON object."""
    return _Conv(lambda m, t: {_need(str, k): c.enc(x, t) for k, x in m.items()},
                 lambda v, t: MappingProxyType({k: c.dec(x, t) for k, x in _need(dict, v).items()}))


def _pairs(key: _Conv, c: _Conv) -> _Conv:
    """A read-only mapping with other keys, as a list of [key, value]."""
    def dec(v, t):
        items = [_need(list, p) for p in _need(list, v)]
        if any(len(p) != 2 for p in items):
            raise _Bad("not a pair")
        return MappingProxyType({key.dec(k, t): c.dec(x, t) for k, x in items})
    return _Conv(lambda m, t: [[key.enc(k, t), c.enc(x, t)] for k, x in m.items()], dec)


def _record(cls: type, shared: bool = False, **fields: _Conv) -> _Conv:
    """A frozen dataclass as the list of its fields' values, in this order;
    shared: stored once in the table, as its row number."""
    names, convs = list(fields), list(fields.values())

    def enc(obj, t):
        return [c.enc(getattr(obj, n), t) for n, c in zip(names, convs)]

    def dec(v, t):
        if len(_need(list, v)) != len(convs):
            raise _Bad(f"{cls.__name__} of {len(v)} fields")
        # a scalar of the right type needs no call (the hot path of a lookup)
        return cls(*[x if type(x) in c.kinds else c.dec(x, t) for c, x in zip(convs, v)])

    if not shared:
        return _Conv(enc, dec)

    def enc_row(obj, t):
        row = t.index.get(obj)
        if row is None:
            data = enc(obj, t)               # the rows it refers to come first
            row = t.index[obj] = len(t.rows)
            t.rows.append(data)
        return row

    def dec_row(row, t):
        if type(row) is not int or not 0 <= row < len(t.rows):
            raise _Bad("no such row")
        if row not in t.built:
            t.built[row] = (cls, None)       # under way: a row reaching itself is a cycle
            t.built[row] = (cls, dec(t.rows[row], t))
        kind, value = t.built[row]
        if kind is not cls or value is None:
            raise _Bad("a row of another kind, or a cycle")
        return value
    return _Conv(enc_row, dec_row)


def _later(get) -> _Conv:
    """A converter defined further down (records nest records)."""
    return _Conv(lambda v, t: get().enc(v, t), lambda v, t: get().dec(v, t))


@functools.lru_cache(maxsize=None)
def _record_layout_conv() -> _Conv:
    from .recordlayout import FieldLayout, RecordLayout
    field_layout = _record(FieldLayout, True, name=STR, offset=INT, size=INT, align=INT, type=STR,
                           canonical=STR, dims=_tuple(INT), record=_opt(_later(lambda: record_layout)),
                           bit_offset=OPT_INT, bit_width=OPT_INT)
    record_layout = _record(RecordLayout, True, kind=STR, name=OPT_STR, size=INT, align=INT,
                            fields=_tuple(field_layout), file=STR, line=INT)
    return record_layout


@functools.lru_cache(maxsize=None)
def _facts_conv() -> _Conv:
    # Imported here: only a cache hit needs them.
    from .cparse import CField, Constant, CRecord, SkippedMacro, TypeAlias
    from .headerfacts import HeaderFacts
    from .fielddocs import FieldDoc
    from .nodedocs import NodeDoc, NodeDocs, Note
    from .profiles import Profile, RequestKind

    dims = _tuple(INT)
    constant = _record(Constant, True, name=STR, value=INT_OR_STR, text=STR, file=STR, line=INT,
                       kind=STR)
    skipped = _record(SkippedMacro, name=STR, text=STR, file=STR, line=INT, reason=STR)
    alias = _record(TypeAlias, True, name=STR, spelled=STR, canonical=STR, dims=dims, file=STR,
                    line=INT, via=STR)
    cfield = _record(CField, True, name=OPT_STR, spelled=STR, canonical=STR, dims=dims,
                     bits=OPT_INT, record=_opt(_later(lambda: crecord)), line=INT)
    crecord = _record(CRecord, True, kind=STR, name=OPT_STR, fields=_tuple(cfield), file=STR,
                      line=INT)
    record_layout = _record_layout_conv()
    node_doc = _record(NodeDoc, name=STR, side=STR, section=STR, private=BOOL, values=STR,
                       default=OPT_STR, maximum=OPT_STR, notes=dims, deprecated=BOOL, line=INT,
                       text=STR)
    note = _record(Note, number=INT, line=INT, text=STR)
    node_docs = _record(NodeDocs, nodes=_tuple(node_doc), notes=_pairs(INT, note), line=INT)
    field_doc = _record(FieldDoc, struct=STR, field=STR, line=INT, text=STR)
    request_kind = _record(RequestKind, name=STR, struct=STR, select=_map(STR))
    profile = _record(Profile, name=STR, description=STR, file=STR, package=STR,
                      locate=_tuple(STR), detect_require=_tuple(REGEX), detect_forbid=_tuple(REGEX),
                      include_dirs=_tuple(STR), companions=_tuple(STR), stubs=_map(STR),
                      abi_defines=_map(_map(STR)), request_kinds=_map(request_kind), padding=REGEX,
                      node_docs=BOOL, canonical=BOOL, prelude=STR)
    return _record(HeaderFacts, path=STR, profile=profile, abis=_tuple(STR), companions=_tuple(STR),
                   constants=_map(constant), constants_by_abi=_map(_map(constant)),
                   skipped=_map(skipped), typedefs=_map(alias), typedefs_by_abi=_map(_map(alias)),
                   structs=_map(_map(crecord)), layouts=_map(_map(record_layout)),
                   node_docs=_opt(node_docs), field_docs=_opt(_map(field_doc)),
                   unsupported=_map(STR))


def to_json(facts) -> dict:
    """HeaderFacts as plain JSON data: {"rows": shared records, "facts": the rest}."""
    t = _Table([])
    top = _facts_conv().enc(facts, t)
    return {"rows": t.rows, "facts": top}


def from_json(data):
    """HeaderFacts back from to_json's data; _Bad (a ValueError) for anything else."""
    if type(data) is not dict or set(data) != {"rows", "facts"}:
        raise _Bad("not facts")
    return _facts_conv().dec(data["facts"], _Table(_need(list, data["rows"])))


def layouts_to_json(layouts) -> dict:
    """{name: {tag: RecordLayout}} as JSON data (clangrun sends layouts so)."""
    t = _Table([])
    top = _map(_map(_record_layout_conv())).enc(layouts, t)
    return {"rows": t.rows, "layouts": top}


def layouts_from_json(data) -> dict:
    """layouts_to_json's data back; _Bad (a ValueError) for anything else."""
    if type(data) is not dict or set(data) != {"rows", "layouts"}:
        raise _Bad("not layouts")
    return dict(_map(_map(_record_layout_conv())).dec(data["layouts"], _Table(_need(list, data["rows"]))))


# --- lookup and store ----------------------------------------------------------

def _facts_of(entry, path: str, abis: tuple[str, ...]):
    """(facts, the files they were read from) of a parsed entry, or None when
    stale; _Bad when malformed."""
    if type(entry) is not dict or entry.get("format") != FORMAT:
        raise _Bad("not an entry of this format")
    for pair in _need(list, entry.get("files")):
        if len(_need(list, pair)) != 2:
            raise _Bad("not a [file, sha256] pair")
        if _digest(_need(str, pair[0])) != _need(str, pair[1]):
            return None
    facts = from_json(entry.get("facts"))
    # What the analysis would have been asked: else the entry is for another one.
    per_abi = (facts.constants_by_abi, facts.typedefs_by_abi, facts.structs, facts.layouts)
    done = tuple(a for a in abis if a not in facts.unsupported)
    if facts.path != os.path.abspath(path) or facts.abis != done or not set(facts.unsupported) <= set(abis) \
            or any(set(m) != set(done) for m in per_abi):
        raise _Bad("facts of another analysis")
    return facts, tuple((p, d) for p, d in entry["files"])


def load(path: str, profile_name: str, abis: tuple[str, ...]):
    """(the cached facts, ((file, sha256), ...) of every file they were read
    from), or None when absent, unreadable or any of those files changed."""
    if not enabled():
        return None
    data = cachefile.read(_key(path, profile_name, abis), _MAX_BYTES)
    body = unseal(data) if data is not None else None
    if body is None:
        return None
    try:
        return _facts_of(json.loads(body.decode("utf-8")), path, abis)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None                     # bad UTF-8, JSON or shape; nesting too deep


def store(facts, profile_name: str, abis: tuple[str, ...], files: set[str]) -> tuple | None:
    """Remember facts with the files they were read from (best effort).
    Returns ((file, sha256), ...) of those files, None when one is unreadable."""
    digests = [[p, _digest(p)] for p in sorted(files)]
    if any(d is None for _, d in digests):
        return None
    read = tuple(map(tuple, digests))
    if not enabled():
        return read
    try:
        body = json.dumps({"format": FORMAT, "files": digests, "facts": to_json(facts)},
                          separators=(",", ":")).encode()
    except (ValueError, TypeError):     # facts to_json does not know: not cached
        return read
    cachefile.write(_key(facts.path, profile_name, abis), seal(body))
    return read
