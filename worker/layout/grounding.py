"""DeepSeek-OCR's raw output → recognised blocks. Pure: no I/O besides one log line.

With the `<|grounding|>` prompts the model writes one block after another:

    <|ref|>title<|/ref|><|det|>[[100, 50, 900, 80]]<|/det|>
    # Document Title

    <|ref|>text<|/ref|><|det|>[[100, 95, 900, 300]]<|/det|>
    Paragraph...

The ref names the block type, the det holds boxes normalised to 0..999, and the block's content
runs to the next `<|ref|>`. How the output is read:

- A ref of a known type (`shared.layout.BlockType`) names the block's type; so does an unknown
  lowercase identifier followed by content (kept as it comes). Any other ref — the `OCR this
  image` prompt puts the recognised words there — is a `text` block whose text is the ref
  followed by the content.
- Several boxes in one det: an `image` becomes one image block per box (each is cropped, as the
  upstream scripts do); any other type stays one block whose box is the union of its boxes, since
  its text cannot be split among them.
- A malformed, out-of-range or empty box leaves its block without it; an unterminated tag is
  closed where the next tag or the output ends. Repairs are logged once per page.
- Output with no tags at all (`Free OCR.`) becomes one `text` block per paragraph, without boxes.
- Without the end-of-sentence token the page is `truncated`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from shared.layout import BlockType
from shared.logs import EventLogger, get_logger
from worker.layout.grounding_boxes import (
    NormBox,
    PixelBox,
    parse_det,
    split_unclosed_det,
    to_pixels,
    union,
)
from worker.layout.grounding_text import block_text, paragraphs, remove_markers, tidy
from worker.layout.recognized import RecognizedBlock, RecognizedPage

KNOWN_TYPES = frozenset(t.value for t in BlockType)

_TAG = re.compile(r"<\|(/?(?:ref|det))\|>")
_LABEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
_MAX_REF_CHARS = 200  # a ref longer than this, or spanning lines, was never meant as one

_log = get_logger(__name__)


@dataclass(frozen=True)
class Issue:
    code: str
    detail: str


@dataclass
class GroundedBlock:
    type: str
    boxes: list[NormBox]
    text: str


@dataclass
class Grounding:
    blocks: list[GroundedBlock]
    issues: list[Issue]


@dataclass
class _Draft:
    ref: str | None  # None: text outside any ref (before the first, or with no tags at all)
    boxes: list[NormBox] = field(default_factory=list)
    content: list[str] = field(default_factory=list)


class _Scanner:
    """A small state machine over text runs and the four tags; it never fails on bad input."""

    def __init__(self) -> None:
        self.drafts: list[_Draft] = []
        self.current = _Draft(ref=None)
        self.state = "outside"  # outside | in_ref | after_ref | in_det
        self.buffer: list[str] = []
        self.issues: list[Issue] = []

    def text(self, value: str) -> None:
        if self.state in ("in_ref", "in_det"):
            self.buffer.append(value)
            return
        if self.state == "after_ref" and value.strip():
            self.state = "outside"
        self.current.content.append(value)

    def tag(self, name: str) -> None:
        if self.state == "in_ref":
            if name == "/ref":
                self._open("".join(self.buffer).strip())
            else:  # closes the ref, then counts as what it is in the state that leaves
                self._ref_interrupted()
                self.tag(name)
        elif self.state == "in_det":
            if name == "/det":
                self._add_boxes("".join(self.buffer))
                self.state = "outside"
            else:
                self._det_unterminated(f"<|det|> closed by <|{name}|>")
                self.tag(name)
        elif self.state == "after_ref" and name == "det":
            self._enter("in_det")
        else:
            self.state = "outside"
            self._outside_tag(name)

    def finish(self) -> list[_Draft]:
        if self.state == "in_ref":
            fragment = "".join(self.buffer)
            if _fits_ref(fragment):
                self._issue("ref_unterminated", f"output ends inside <|ref|>{fragment.strip()[:40]}")
            else:
                self._issue("ref_unterminated", "output ends inside a long <|ref|>; kept as text")
                self.current.content.append(fragment)
        elif self.state == "in_det":
            self._det_unterminated("output ends inside <|det|>")
        self.drafts.append(self.current)
        return self.drafts

    def _outside_tag(self, name: str) -> None:
        if name == "ref":
            self._enter("in_ref")
        elif name == "det":  # a det with no ref: its boxes go to an untyped text block
            self.drafts.append(self.current)
            self.current = _Draft(ref=None)
            self._enter("in_det")
        else:
            self._issue("tag_stray", f"<|{name}|> with nothing open")

    def _enter(self, state: str) -> None:
        self.state = state
        self.buffer = []

    def _open(self, ref: str) -> None:
        self.drafts.append(self.current)
        self.current = _Draft(ref=ref)
        self.state = "after_ref"

    def _ref_interrupted(self) -> None:
        fragment = "".join(self.buffer)
        self._issue("ref_unterminated", f"<|ref|>{fragment.strip()[:40]} not closed")
        if _fits_ref(fragment):
            self._open(fragment.strip())
        else:
            self.current.content.append(fragment)
            self.state = "outside"

    def _det_unterminated(self, detail: str) -> None:
        # keep what can be kept: complete boxes as boxes, the text after them as content
        self._issue("det_unterminated", detail)
        coordinates, rest = split_unclosed_det("".join(self.buffer))
        if coordinates.strip():
            self._add_boxes(coordinates)
        self.current.content.append(rest)
        self.state = "outside"

    def _add_boxes(self, text: str) -> None:
        boxes, problems = parse_det(text)
        self.current.boxes.extend(boxes)
        self.issues.extend(Issue(p.code, p.detail) for p in problems)

    def _issue(self, code: str, detail: str) -> None:
        self.issues.append(Issue(code, detail))


def _fits_ref(fragment: str) -> bool:
    stripped = fragment.strip()
    return bool(stripped) and "\n" not in stripped and len(stripped) <= _MAX_REF_CHARS


def parse_grounding(raw_text: str) -> Grounding:
    """The blocks of one page's raw output, boxes still normalised to 0..999."""
    scanner = _Scanner()
    text = remove_markers(raw_text)
    position = 0
    for match in _TAG.finditer(text):
        if match.start() > position:
            scanner.text(text[position : match.start()])
        scanner.tag(match.group(1))
        position = match.end()
    if position < len(text):
        scanner.text(text[position:])
    blocks = [block for draft in scanner.finish() for block in _blocks_of(draft)]
    return Grounding(blocks, scanner.issues)


def _blocks_of(draft: _Draft) -> list[GroundedBlock]:
    content = "".join(draft.content)
    if draft.ref is None:
        if draft.boxes:
            return [GroundedBlock("text", draft.boxes, tidy(content))]
        return [GroundedBlock("text", [], part) for part in paragraphs(content)]
    kind, text = _classify(draft.ref, content)
    if not text and not draft.boxes and kind != "image":
        return []
    return [GroundedBlock(kind, draft.boxes, text)]


def _classify(ref: str, content: str) -> tuple[str, str]:
    if ref in KNOWN_TYPES or (_LABEL.fullmatch(ref) and tidy(content)):
        return ref, block_text(ref, content)
    return "text", tidy(ref + content)


def recognized_from_raw(
    raw_text: str,
    width: int,
    height: int,
    *,
    eos: bool,
    output_tokens: int | None = None,
    log: EventLogger | None = None,
) -> RecognizedPage:
    """One page's raw DeepSeek-OCR output as recognised blocks in page pixels.

    `eos`: the model ended with its end-of-sentence token (vLLM's finish reason `stop`); without
    it the page is marked truncated. `log` may carry the task and page ids.
    """
    grounding = parse_grounding(raw_text)
    issues = list(grounding.issues)
    blocks: list[RecognizedBlock] = []
    for block in grounding.blocks:
        blocks.extend(_placed(block, width, height, issues))
    if issues:
        codes = Counter(issue.code for issue in issues)
        (log or _log).warning(
            "layout.grounding.repaired",
            issues=",".join(f"{code}:{count}" for code, count in sorted(codes.items())),
            first=issues[0].detail,
        )
    return RecognizedPage(blocks=blocks, raw_text=raw_text, output_tokens=output_tokens, truncated=not eos)


def _placed(block: GroundedBlock, width: int, height: int, issues: list[Issue]) -> list[RecognizedBlock]:
    pixels: list[PixelBox] = []
    for box in block.boxes:
        placed = to_pixels(box, width, height)
        if placed is None:
            issues.append(Issue("box_empty", f"{list(box)} has no area on a {width}x{height} page"))
        else:
            pixels.append(placed)
    if block.type == "image" and len(pixels) > 1:
        return [
            RecognizedBlock("image", box, block.text if index == 0 else "")
            for index, box in enumerate(pixels)
        ]
    return [RecognizedBlock(block.type, union(pixels) if pixels else None, block.text)]
