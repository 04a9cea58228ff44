"""The command-line options that describe one copy of blkif.h beyond its
profile, shared by validate, layout and diff-header: --include DIR and
--define NAME[=VALUE] (what a vendored copy's own build would provide)."""
from __future__ import annotations


def add(sp) -> None:
    sp.add_argument("--include", action="append", default=[], metavar="DIR",
                    help="also search DIR for the files the header includes (repeatable; e.g. the "
                         "include root of the tree a vendored copy comes from)")
    sp.add_argument("--define", action="append", default=[], metavar="NAME[=VALUE]",
                    help="define a macro on every ABI when reading the header (repeatable; VALUE "
                         "defaults to 1)")


def options(args):
    """The checked HeaderOptions of parsed arguments (SpecError when bad)."""
    from xendrvgen.headers import header_options
    return header_options(args.include, args.define)
