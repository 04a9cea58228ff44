"""`xendrvgen schema`: print the JSON Schema of the spec format (for editors)."""
from __future__ import annotations

import json

from xendrvgen.base.diagnostics import EXIT_OK


def cmd_schema(args) -> int:
    from xendrvgen.spec.schema import SCHEMA
    print(json.dumps(SCHEMA, indent=2))
    return EXIT_OK


def register(add, spec_arg, csv) -> None:
    add("schema", cmd_schema, "print the JSON Schema of the spec format")
