"""The live text filter: DeepSeek's grounding markup never reaches a watcher, the words do, and
how the output is cut into deltas never changes what comes out."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.layout.grounding import parse_grounding
from worker.layout.grounding_stream import GroundingStreamFilter

RECORDINGS = Path(__file__).parents[2] / "data" / "deepseek"
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
PIECES = [
    "<|ref|>",
    "<|/ref|>",
    "<|det|>",
    "<|/det|>",
    "<|grounding|>",
    EOS,
    "<",
    "|",
    "[[",
    "]]",
    "\n",
    "a < b",
    "title",
    "text",
]


def filtered(*chunks: str) -> str:
    stream = GroundingStreamFilter()
    return "".join(stream.feed(chunk) for chunk in chunks) + stream.finish()


def in_pieces(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces, at = [], 0
    while at < len(text):
        size = rng.randint(1, 9)
        pieces.append(text[at : at + size])
        at += size
    return pieces


def test_a_grounded_page_streams_as_its_markdown_text() -> None:
    raw = (RECORDINGS / "paper.txt").read_text()
    text = filtered(raw)
    assert "<|" not in text
    assert "[[" not in text
    assert "\uff5c" not in text
    assert text.startswith(
        "# Sparse Attention for Long Documents\n\nAda Lovelace, Alan Turing\n\n## 1 Introduction"
    )
    # every word the parser finds in the page's blocks is in the live text
    for block in parse_grounding(raw).blocks:
        for word in block.text.split()[:5]:
            assert word in text, word


def test_token_sized_deltas_give_the_same_text_as_the_whole_output() -> None:
    for recording in sorted(RECORDINGS.glob("*.txt")):
        raw = recording.read_text()
        whole = filtered(raw)
        for seed in range(5):
            assert filtered(*in_pieces(raw, seed)) == whole, recording.name


def test_words_inside_refs_are_text_and_block_labels_are_not() -> None:
    raw = "<|ref|>STOP<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>\n<|ref|>text<|/ref|><|det|>[[5, 6, 7, 8]]<|/det|>\nMain Street"
    assert filtered(raw) == "STOP\nMain Street"


def test_a_det_left_open_keeps_the_text_after_its_boxes() -> None:
    raw = "<|ref|>sub_title<|/ref|><|det|>[[10, 10, 500, 40]]\n## Method<|ref|>text<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>\nBody"
    assert filtered(raw) == "\n## Method" + "Body"


def test_plain_text_with_angle_brackets_passes_through() -> None:
    assert filtered("a < b and <table><tr><td>1</td></tr></table> <|x") == (
        "a < b and <table><tr><td>1</td></tr></table> <|x"
    )
    assert filtered("ends with <", "|") == "ends with <|"


def test_what_could_still_be_a_tag_is_held_back_until_it_is_known() -> None:
    stream = GroundingStreamFilter()
    assert stream.feed("Hello <|re") == "Hello "
    assert stream.feed("f|>title<|/ref|><|det|>[[1,") == ""
    assert stream.feed(" 2, 3, 4]]<|/det|>\n# Title") == "# Title"
    assert stream.feed(EOS[:3]) == ""
    assert stream.feed(EOS[3:]) == ""
    assert stream.finish() == ""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=40), st.integers(0, 1000))
def test_any_output_cut_anywhere_filters_the_same(parts: list[str], seed: int) -> None:
    raw = "".join(parts)
    assert filtered(*in_pieces(raw, seed)) == filtered(raw)
