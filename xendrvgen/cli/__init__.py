"""The command line: `main` parses the arguments and runs one command.

main.py holds the parser and the dispatch; every other module here is one
command (or a group of related ones): it adds its arguments, calls a stage
and prints.  Nothing below the command line imports from here.
"""
from .dispatch import build_parser, main

__all__ = ["build_parser", "main"]
