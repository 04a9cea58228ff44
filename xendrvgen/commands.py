"""Subcommands beyond validate/layout: each adds its parser in register()."""
from __future__ import annotations


def register(add, spec_arg, csv) -> None:
    """Add the subcommands defined outside cli.py.

    `add(name, func, help)` returns an argparse subparser, `spec_arg(sp)` adds
    --spec, and `csv` parses a comma-separated list.
    """
    from . import contract
    contract.register(add, csv)
