"""JSON Schema of the spec format, checked with the `jsonschema` library.

`xendrvgen schema` prints SCHEMA so editors (e.g. the YAML language server)
can complete and check specs as they are typed.  Every object forbids keys it
does not know, so a typo is an error, not a silently ignored key.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
from pathlib import Path

from xendrvgen.base.cescape import KEYWORDS, control_chars, identifier_problem
from xendrvgen.base.diagnostics import Collector
from xendrvgen.base.yamldoc import Document

# `(?![\s\S])` ends the text in both Python and ECMA regexes (editors read
# this schema too); `$` would also match before a final newline.
_END = r"(?![\s\S])"
# A reference to a C type or a spec element.
NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*" + _END}
# A name the generated C declares: no C/C++ keyword, nothing reserved.
IDENT = {"type": "string", "pattern": "^(?!__|_[A-Z])[A-Za-z_][A-Za-z0-9_]*" + _END,
         "not": {"enum": sorted(KEYWORDS)}}
# A XenStore node path under the device's directory; `%u` (at most once,
# ending a path component) is where a queue or page number goes.
_NODE_PART = "[a-z0-9][a-z0-9_-]*"
NODE_NAME = {"type": "string", "maxLength": 128,
             "pattern": f"^{_NODE_PART}(?:%u)?(?:/{_NODE_PART})*{_END}"}


def integer(minimum: int, maximum: int) -> dict:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


# Every number is bounded by the C type it ends up in.
U64 = integer(-(1 << 63), (1 << 64) - 1)     # constants and node values
BYTES = integer(0, 1 << 20)                   # sizes and offsets within a page
COUNT = integer(1, 1 << 16)                   # array lengths, entries, notes
ABI_NAME = {"enum": ["x86_32", "x86_64", "arm32", "arm64"]}
TEXT = {"type": "string", "minLength": 1}
STATE = {"type": "string"}
SIDE = {"enum": ["backend", "frontend"]}


def obj(required: list[str], **props) -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": required, "properties": props}


def array_of(item: dict, **extra) -> dict:
    return {"type": "array", "items": item, **extra}


LAYOUT = obj(["size", "align", "offsets"],
             size={**BYTES, "minimum": 1},
             align={"type": "integer", "enum": [1, 2, 4, 8, 16]},
             offsets={"type": "object", "additionalProperties": BYTES})

# What one unit of a field's or node's value is, where the protocol defines
# it (a change of units is then a named finding of validate and diff-header).
UNITS = {"enum": ["bytes", "512-byte sectors", "sector-size units", "pages", "log2 pages"]}

FIELD = obj(["name", "type"],
            name=IDENT, type=NAME, units=UNITS,
            array={"oneOf": [COUNT, NAME]},
            abis=array_of(ABI_NAME, minItems=1, uniqueItems=True),
            padding={"type": "boolean"},
            description=TEXT)

NODE_REF = obj(["node"], node=NODE_NAME)
CONST_REF = obj(["constant"], constant=NAME)
LIMIT = {"oneOf": [U64, NODE_REF, CONST_REF]}

XS_NODE = obj(
    ["name", "side", "section", "type", "writer", "readers", "description"],
    name=NODE_NAME, side=SIDE, units=UNITS,
    section={"enum": ["identification", "features", "transport", "properties",
                      "virtual-device", "multi-queue"]},
    type={"enum": ["bool", "uint32", "uint64", "string", "enum", "bitmap"]},
    values=array_of({"type": "string"}, minItems=1),
    default={"oneOf": [U64, {"type": "string"}, NODE_REF]},
    min=LIMIT, max=LIMIT, max_rule=TEXT,
    writer={"enum": ["backend", "frontend", "toolstack"]},
    readers=array_of({"enum": ["backend", "frontend", "toolstack"]}, uniqueItems=True),
    published_in=STATE,
    private={"type": "boolean"}, deprecated={"type": "boolean"},
    notes=array_of(COUNT, uniqueItems=True),
    documented={"type": "boolean"},
    feature=IDENT, per_queue={"type": "boolean"},
    vendor=IDENT, extension={"type": "boolean"},
    description=TEXT)

TRANSITION = obj(
    ["from", "to", "when", "kind", "do"],
    **{"from": array_of(STATE, minItems=1, uniqueItems=True)},
    to=STATE,
    when={"oneOf": [{"const": "local"}, array_of(STATE, minItems=1, uniqueItems=True),
                    obj(["event"], event=NAME)]},
    kind={"enum": ["startup", "skip", "close", "reconnect", "resume"]},
    do=array_of(NAME, uniqueItems=True),
    description=TEXT)

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://xendrvgen.invalid/spec.schema.json",
    "title": "xendrvgen protocol spec",
    **obj(
        ["format", "name", "title", "upstream", "abis", "types", "constants", "structs", "ring",
         "xenbus_states", "actions", "state_machines", "negotiation",
         "xenstore_notes", "xenstore_nodes"],
        format={"const": 1},
        name=IDENT,
        title=TEXT,
        upstream=obj(["header", "request_kinds", "response"],
                     header=TEXT, xen_version=TEXT,
                     request_kinds=array_of(NAME, minItems=1, uniqueItems=True),
                     response=NAME,
                     constant_prefixes=array_of(NAME, uniqueItems=True)),
        abis=array_of(obj(["name", "clang_target", "protocol"],
                          name=ABI_NAME, clang_target=TEXT, protocol=NAME,
                          description=TEXT), minItems=1),
        abi_variants=array_of(obj(["name", "abi"], name=IDENT, abi=ABI_NAME)),
        types=array_of(obj(["name", "c_type"], name=IDENT, c_type=NAME,
                           header=TEXT, description=TEXT)),
        constants=array_of(obj(
            ["name", "value", "group"],
            name=IDENT,
            value={"oneOf": [U64, {"type": "string"}]},
            group={"enum": ["operation", "status", "vdisk_info", "discard_flag",
                            "limit", "protocol"]},
            feature=NAME, struct=NAME, reserved={"type": "boolean"},
            header=TEXT, description=TEXT)),
        structs=array_of(obj(
            ["name", "fields", "layout"],
            name=IDENT, typedef=IDENT, description=TEXT,
            operations=array_of(NAME, minItems=1, uniqueItems=True),
            fields=array_of(FIELD, minItems=1),
            layout={"type": "object", "additionalProperties": False,
                    "propertyNames": ABI_NAME,
                    "patternProperties": {".*": LAYOUT}})),
        ring=obj(["name", "request", "response", "page_size", "header_size", "layout"],
                 name=IDENT, request=NAME, response=NAME, index_type=NAME,
                 page_size={**BYTES, "minimum": 512},
                 header_size=BYTES,
                 layout={"type": "object", "propertyNames": ABI_NAME,
                         "additionalProperties": obj(
                             ["entry_size", "entries_per_page"],
                             entry_size={**BYTES, "minimum": 1},
                             entries_per_page=COUNT)}),
        xenbus_states=array_of(obj(["name", "value"], name=IDENT,
                                   value=integer(0, 255),
                                   description=TEXT), minItems=1),
        actions=array_of(obj(["name", "side", "description"], name=IDENT, side=SIDE,
                             ring={"enum": ["stop", "release"]}, reads_config={"type": "boolean"},
                             description=TEXT)),
        events=array_of(obj(["name", "side", "description"], name=IDENT, side=SIDE,
                            forced={"type": "boolean"}, description=TEXT)),
        state_machines=array_of(obj(["side", "initial", "transitions"],
                                    side=SIDE, initial=STATE,
                                    ignores=array_of(STATE, uniqueItems=True),
                                    ring_in_use=array_of(STATE, uniqueItems=True),
                                    transitions=array_of(TRANSITION, minItems=1))),
        negotiation=array_of(obj(
            ["name", "decider", "offer", "rule", "description"],
            name=IDENT, description=TEXT,
            decider={"enum": ["frontend", "backend", "both"]},
            offer=NODE_NAME, accept=NODE_NAME,
            rule={"enum": ["min", "both", "offered"]},
            local_limit=integer(0, (1 << 32) - 1),
            floor=integer(0, (1 << 32) - 1),
            legacy=obj(["offer", "accept", "unit"], offer=NODE_NAME, accept=NODE_NAME,
                       unit={"enum": ["pages"]}),
            **{"with": array_of(NODE_NAME, uniqueItems=True)})),
        xenstore_notes=array_of(obj(["number", "text"],
                                    number=COUNT, text=TEXT)),
        xenstore_nodes=array_of(XS_NODE, minItems=1),
    ),
}


def _describe(path) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "the document"


def describe_error(err, has_context: bool) -> tuple[str, tuple]:
    """A readable message for one schema error, and the path to point at."""
    path = tuple(err.absolute_path)
    # Inside a named element the context already says which one: keep the rest.
    where = _describe(path[2:] if has_context else path) if not (has_context and len(path) == 2) else "the entry"
    schema = err.schema if isinstance(err.schema, dict) else {}
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(known))
        key = extra[0]
        hint = difflib.get_close_matches(key, known, n=1)
        msg = f"{where} has unknown key '{key}'"
        msg += f" (did you mean '{hint[0]}'?)" if hint else ""
        msg += f"; valid keys are: {', '.join(known)}"
        return msg, path + (key,)
    if err.validator == "required":
        missing = err.message.split("'")[1]
        return f"{where} is missing required key '{missing}'", path
    if err.validator == "enum":
        opts = ", ".join(repr(v) for v in err.validator_value)
        return f"{where} is {err.instance!r}; expected one of: {opts}", path
    if err.validator == "const":
        return f"{where} must be {err.validator_value!r}, not {err.instance!r}", path
    if err.validator == "type":
        return f"{where} should be {_typename(err.validator_value)}, not {_typename_of(err.instance)}", path
    if err.validator == "pattern" and err.validator_value == NODE_NAME["pattern"]:
        return (f"{where} {err.instance!r} is not a XenStore node name: lower-case letters, digits, "
                "'-' and '_', components joined by '/', and at most one '%u' (where a number goes) "
                "at the end of a component"), path
    if err.validator in ("pattern", "not") and isinstance(err.instance, str):
        why = identifier_problem(err.instance) or "is not a valid name"
        return f"{where} {err.instance!r} {why}; choose another name", path
    if err.validator == "maximum":
        return f"{where} is {err.instance}; must be at most {err.validator_value}", path
    if err.validator == "maxLength":
        return f"{where} is longer than {err.validator_value} characters", path
    if err.validator == "propertyNames":
        return f"{where} has unknown key {err.instance!r}", path
    if err.validator == "oneOf":
        return f"{where} has an unexpected value {err.instance!r}", path
    if err.validator in ("minItems", "minLength"):
        return f"{where} must not be empty", path
    if err.validator == "minimum":
        return f"{where} is {err.instance}; must be at least {err.validator_value}", path
    if err.validator == "uniqueItems":
        return f"{where} lists the same item twice", path
    return f"{where}: {err.message}", path


def _typename(t) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "an integer", "boolean": "true or false", "number": "a number"}
    if isinstance(t, list):
        return " or ".join(names.get(x, x) for x in t)
    return names.get(t, t)


def _typename_of(v) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, int):
        return f"the integer {v}"
    if v is None:
        return "an empty value"
    if isinstance(v, str):
        return f"the string {v!r}"
    return f"{type(v).__name__} {v!r}"


def _verdict_inputs(schema: dict, doc: Document) -> bytes:
    """What a verdict is about: the sha256 of the schema, then of the text."""
    return (hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).digest()
            + hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).digest())


def _cache_stamp(schema: dict, doc: Document, inputs: bytes | None = None) -> Path:
    """Where a past clean check of this exact text against this exact schema is remembered."""
    from xendrvgen.base.paths import cache_dir
    base = cache_dir()
    h = hashlib.sha256(inputs or _verdict_inputs(schema, doc))
    return Path(base) / "schema-ok" / h.hexdigest()


def _verdict_token(inputs: bytes) -> bytes:
    """What a stamp must hold to count: derived from its inputs under a tag of
    its own, so an empty, stray or copied file (or one holding its own name)
    is no verdict."""
    return hashlib.sha256(b"xendrvgen schema-ok 1\0" + inputs).hexdigest().encode()


def violations(schema: dict, doc: Document) -> list:
    """The schema's errors in a document, each the most specific of its kind.

    Importing jsonschema costs ~0.15 s, most of a cold run; a text that
    already passed this very schema needs no second look, so clean verdicts
    are remembered by content hash (XENDRVGEN_NO_CACHE=1 forgets them).
    A stamp counts only when it holds exactly its token; anything else
    there means a fresh check.
    """
    from xendrvgen.base import cachefile
    cached = not os.environ.get("XENDRVGEN_NO_CACHE")
    if cached:
        inputs = _verdict_inputs(schema, doc)
        stamp, token = _cache_stamp(schema, doc, inputs), _verdict_token(inputs)
        if cachefile.read(stamp, len(token)) == token:
            return []
    import jsonschema
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: tuple(map(str, e.absolute_path)))
    if not errors and cached:
        cachefile.write(stamp, token)
    return [jsonschema.exceptions.best_match([e]) for e in errors]


def check(doc: Document, diags: Collector) -> bool:
    """Report every schema violation of a spec; True when it conforms."""
    before = len(diags.errors())
    floats = _scalar_problems(doc, diags)
    errors = [e for e in violations(SCHEMA, doc) if tuple(e.absolute_path) not in floats]
    for best in errors:
        ctx = _context(doc.data, tuple(best.absolute_path))
        msg, path = describe_error(best, bool(ctx))
        mark = doc.key_mark(path) if best.validator == "additionalProperties" else doc.mark(path)
        diags.error(msg, mark, ctx)
    return not errors and len(diags.errors()) == before


def _scalar_problems(doc: Document, diags: Collector) -> set:
    """What JSON Schema lets through: a float with no fraction passes as an
    integer, and any text may hold control or bidirectional characters.
    Reports both; returns the paths of the floats."""
    floats, stack = set(), [((), doc.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
        elif isinstance(value, float) or (isinstance(value, str) and control_chars(value)):
            ctx = _context(doc.data, path)
            where = _describe(path[2:] if ctx else path)
            if isinstance(value, float):
                floats.add(path)
                msg = (f"{where} is {value!r}, a number with a fraction or an exponent: "
                       "the spec's numbers are integers (quote it if it is text)")
            else:
                msg = (f"{where} contains control or bidirectional characters "
                       f"({', '.join(control_chars(value))}) that would hide what the text says "
                       "in generated C; remove them")
            diags.error(msg, doc.mark(path), ctx)
    return floats


def _context(data, path) -> str:
    """'struct 'x'' style context for the element a path falls in."""
    kinds = {"structs": "struct", "constants": "constant", "types": "type",
             "xenstore_nodes": "node", "negotiation": "negotiation", "actions": "action",
             "abis": "ABI", "xenbus_states": "state", "state_machines": "state machine"}
    if len(path) >= 2 and path[0] in kinds and isinstance(path[1], int):
        try:
            item = data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            return ""
        if isinstance(item, dict):
            name = item.get("name", item.get("side"))
            if isinstance(name, str):
                return f"{kinds[path[0]]} '{name}'"
    return ""
