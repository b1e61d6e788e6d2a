"""Text of the layer made readable: ligatures spelled out, odd spaces made plain, letter-spaced
words closed up, and lines joined with end-of-line hyphenation undone."""

from __future__ import annotations

import re

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u0132": "IJ",
        "\u0133": "ij",
        "\u00ad": "",  # soft hyphen: only a hint where a word may break
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\ufeff": "",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\t": " ",
    }
)
_SPACES = re.compile(r" {2,}")
# four or more single letters in a row, one space apart: a letter-spaced word ("S O F T")
_LETTER_SPACED = re.compile(r"\b(?:[^\W\d_] ){3,}[^\W\d_]\b")
_HYPHEN_END = re.compile(r"[^\W\d_]-$")


def clean(text: str) -> str:
    text = text.translate(_LIGATURES)
    text = _LETTER_SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return _SPACES.sub(" ", text).strip()


def join_lines(lines: list[str]) -> str:
    """One paragraph from its lines. A line ending in letter + hyphen followed by a line starting
    in lower case was a word broken at the margin; anything else keeps its hyphen."""
    out = ""
    for raw in lines:
        line = clean(raw)
        if not line:
            continue
        if not out:
            out = line
        elif _HYPHEN_END.search(out) and line[0].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return out
