"""Subcommands beyond validate/layout: each adds its parser in register()."""
from __future__ import annotations


def register(add, spec_arg, csv) -> None:
    """Add the subcommands defined outside cli.py.

    `add(name, func, help)` returns an argparse subparser, `spec_arg(sp)` adds
    --spec, and `csv` parses a comma-separated list.
    """
    from . import contract
    contract.register(add, csv)
    from . import gencli
    gencli.register(add, spec_arg, csv)
    from .compile import _cli as compile_cli
    compile_cli.register(add, spec_arg, csv)
    compile_cli.register_image(add, spec_arg, csv)
    from . import plancli
    plancli.register(add, spec_arg, csv)
    from . import modelcheckcli
    modelcheckcli.register(add, spec_arg, csv)
    from .sim import cli as sim_cli
    sim_cli.register(add, spec_arg, csv)
    from . import cijob
    cijob.register(add, spec_arg, csv)
    from .interop import cli as interop_cli
    interop_cli.register(add, spec_arg, csv)
    from . import port
    port.register(add, spec_arg, csv)
