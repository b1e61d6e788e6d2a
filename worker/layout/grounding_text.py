"""Text of DeepSeek-OCR blocks: special tokens out, each block type's text in the form
`layout.json` promises (docs/layout-json.md).

- Titles and subtitles lose the markdown heading marks the model writes (`# `, `## `); the
  markdown assembler puts them back by block type, so a title is never `# # Title`.
- Equations lose one wrapping `\\[ ... \\]` or `$$ ... $$`: layout.json holds bare LaTeX and the
  assembler wraps it again.
- A block wholly wrapped in `<center>...</center>` (the model's habit for captions) loses it.
- Tables keep their HTML as it comes.
"""

from __future__ import annotations

import re

# DeepSeek's own special tokens are written with full-width bars (U+FF5C) and U+2581 for spaces,
# e.g. the end token "<|end_of_sentence|>" in those characters; the ASCII-barred ones are the
# chat and grounding markers of the OCR prompts.
END_OF_SENTENCE = "<\uff5cend\u2581of\u2581sentence\uff5c>"
_MARKERS = re.compile(r"<\uff5c[^\uff5c<>\n]{1,40}\uff5c>|<\|(?:grounding|User|Assistant)\|>")
_SPECIAL = re.compile(_MARKERS.pattern + r"|<\|/?(?:ref|det)\|>")
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_HEADING_MARK = re.compile(r"^\s{0,3}#{1,6}(?:[ \t]+|$)")
_CENTER = re.compile(r"^<center>(?P<body>(?:(?!</?center>).)*)</center>$", re.DOTALL | re.IGNORECASE)
_DISPLAY_WRAPPERS = (
    re.compile(r"^\\\[(?P<body>(?:(?!\\\[|\\\]).)*)\\\]$", re.DOTALL),
    re.compile(r"^\$\$(?P<body>(?:(?!\$\$).)*)\$\$$", re.DOTALL),
)


def has_end_of_sentence(raw_text: str) -> bool:
    """Whether the model's own end token made it into the text (vLLM keeps it there when
    `include_stop_str_in_output` or `skip_special_tokens=False` is set)."""
    return END_OF_SENTENCE in raw_text


def remove_markers(text: str) -> str:
    """Special tokens out, the grounding tags (`<|ref|>`, `<|det|>`...) kept for the parser."""
    return _remove_all(_MARKERS, text)


def remove_special_tokens(text: str) -> str:
    return _remove_all(_SPECIAL, text)


def _remove_all(pattern: re.Pattern[str], text: str) -> str:
    # again until nothing matches: taking "<|grounding|>" out of "<|re<|grounding|>f|>" makes a tag
    while True:
        cleaned = pattern.sub("", text)
        if cleaned == text:
            return text
        text = cleaned


def tidy(text: str) -> str:
    """Special tokens out, runs of blank lines folded into one, outer whitespace trimmed."""
    return _BLANK_RUNS.sub("\n\n", remove_special_tokens(text)).strip()


def block_text(block_type: str, text: str) -> str:
    text = _unwrap(_CENTER, tidy(text))
    if block_type in ("title", "sub_title"):
        lines = (_HEADING_MARK.sub("", line).strip() for line in text.splitlines())
        return " ".join(line for line in lines if line)
    if block_type == "equation":
        return _unwrap_display_math(text)
    return text


def _unwrap(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.match(text)
    return match.group("body").strip() if match else text


def _unwrap_display_math(text: str) -> str:
    for pattern in _DISPLAY_WRAPPERS:
        match = pattern.match(text)
        if match and match.group("body").strip():
            return match.group("body").strip()
    return text


def paragraphs(text: str) -> list[str]:
    """Free text (no grounding tags) split at blank lines, as the markdown assembler joins it."""
    return [part.strip() for part in tidy(text).split("\n\n") if part.strip()]
