"""Documentation text compared by meaning: sentences, fingerprints, units.

Two wordings are the same sentence when their normalised words are equal:
case, punctuation, quotes, line breaks and indentation do not count, nor
do the typo fixes upstream makes (a doubled or undoubled letter, a repeated
word, -ize/-ise), nor a C type spelled the EDK2 way (UINT32 for uint32_t).  Any other change of a word is a changed sentence.  A
sentence is kept only as a short hash of its normalised words, so the
baseline of upstream documentation (specs/headers/docs/xen-blkif.yaml) holds no upstream text.

The unit a text gives a quantity is read from the phrases Xen's headers use
("in units of 512b", "expressed in units of "sector-size"", "in bytes",
"in units of lb(machine pages)"), so a change of units is a named finding.
"""
from __future__ import annotations

import hashlib
import re

# The spec's `units` vocabulary (schema.UNITS uses it too).
UNITS = ("bytes", "512-byte sectors", "sector-size units", "pages", "log2 pages")

# (unit, regex on the lower-cased, reflowed text); the earliest match wins.
_UNIT_PHRASES = [
    ("512-byte sectors", r"units of 512 ?b(?:ytes?)?\b|\b512[- ]byte (?:units|based|sectors)"
                         r"|\bin 512[- ]byte units"),
    ("sector-size units", r"units of (?:its (?:logical |native )?sector size|\"?sector-size\"?)"
                          r"|in terms of the \"?sector-size\"?|\bsector-based quantities"),
    ("log2 pages", r"units of lb\(machine pages\)"),
    ("pages", r"units of machine pages"),
    ("bytes", r"\bin bytes\b"),
]


def reflow(text: str) -> str:
    """Text with every run of whitespace (line breaks, indentation) one space."""
    return re.sub(r"\s+", " ", text).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


def sentences(text: str) -> list[str]:
    """The sentences of a text, reflowed; a blank line ends one too, and
    "e.g. x" does not."""
    return [s for para in re.split(r"\n[ \t]*\n", text)
            for s in _SENTENCE_END.split(reflow(para)) if s]


def normal_words(sentence: str) -> list[str]:
    """The words that make a sentence what it is, typo-proof."""
    words = re.findall(r"[a-z0-9_%<>*=+/-]+", sentence.lower())
    out: list[str] = []
    for w in words:
        w = re.sub(r"^(<?u?int\d+)_t\b", r"\1", w.strip("-/"))     # EDK2 spells <uint32_t> <UINT32>
        w = re.sub(r"(.)\1+", r"\1", w).replace("z", "s")
        if w and (not out or out[-1] != w):
            out.append(w)
    return out


def fingerprint(sentence: str) -> str:
    """8 hex digits standing for the sentence (sha256 of its normal words)."""
    return hashlib.sha256(" ".join(normal_words(sentence)).encode()).hexdigest()[:8]


def fingerprints(text: str) -> tuple[str, ...]:
    return tuple(fingerprint(s) for s in sentences(text) if normal_words(s))


def unit_of(text: str) -> tuple[str, str] | None:
    """(unit, the phrase that says it) for the first unit a text states, or None."""
    low = reflow(text).lower()
    best = None
    for unit, rx in _UNIT_PHRASES:
        m = re.search(rx, low)
        if m and (best is None or m.start() < best[2]):
            best = (unit, reflow(text)[m.start():m.end()], m.start())
    return best[:2] if best else None


def minimum_of(text: str) -> int | None:
    """A stated minimum ("with a minimum value of 512"), or None."""
    m = re.search(r"\bminimum (?:value )?of (\d+)\b", reflow(text).lower())
    return int(m[1]) if m else None
