"""Sizes, alignments and offsets of a header's records on each ABI (libclang).

`start` sets the parses of a preprocessed TU going in a process of their
own (clangrun.py runs clangparse.py there); `layouts` waits for them.  The
records come back as RecordLayout trees (recordlayout.py).
"""
from __future__ import annotations

from typing import Mapping

from .preprocess import Workdir
from .recordlayout import FieldLayout, RecordLayout

__all__ = ["FieldLayout", "RecordLayout", "start", "layouts", "layouts_for"]


def start(wd: Workdir, abis: tuple[str, ...]):
    """The parses of the TU on these ABIs, under way in a process of their own."""
    from .clangrun import Parsing
    return Parsing(wd, abis)


def layouts(wd: Workdir, abis: tuple[str, ...]) -> dict[str, Mapping[str, RecordLayout]]:
    """Layouts per ABI: {abi: {tag: RecordLayout}}."""
    return start(wd, abis).result()


def layouts_for(wd: Workdir, abi: str) -> Mapping[str, RecordLayout]:
    """Layouts of one ABI."""
    return layouts(wd, (abi,))[abi]
