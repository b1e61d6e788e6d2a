"""Which text layers may stand in for OCR."""

from __future__ import annotations

import pytest

from tests.worker.textlayer.pages import block
from worker.textlayer.model import PageLayer
from worker.textlayer.usability import judge

PROSE = "The committee met in the spring and agreed on the budget for the coming year. " * 4


def page(*blocks: object, images: tuple = (), drawings: tuple = ()) -> PageLayer:  # type: ignore[type-arg]
    return PageLayer(612, 792, tuple(blocks), images=images, drawings=drawings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("layer", "usable", "reason"),
    [
        (page(block(PROSE, (72, 72, 540, 200))), True, "text_layer_usable"),
        (page(), True, "blank_page"),
        (page(images=((0, 0, 612, 792),)), False, "no_text_layer"),
        (
            page(block(PROSE, (72, 72, 540, 200), visible=False), images=((0, 0, 612, 792),)),
            False,
            "invisible_text_layer",
        ),
        (page(block("\ufffd\ufffd\ufffd " + PROSE[:40], (72, 72, 540, 90))), False, "garbled_glyphs"),
        (
            page(
                block(
                    "Oqnbddchmfr ne sgd 51mc ïmmtXk Lddshmf ne sgd ïrrnbhXshnm enq BnlotsXshnmXk Khmfthrshbr "
                    * 2,
                    (72, 72, 540, 90),
                )
            ),
            False,
            "implausible_text",
        ),
        (
            page(
                block("Downloaded from the archive on 3 May", (72, 770, 300, 780)), images=((0, 0, 612, 760),)
            ),
            False,
            "mostly_image",
        ),
        (
            page(block("A photo caption", (72, 700, 300, 710)), images=((72, 72, 300, 300),)),
            False,
            "too_little_text",
        ),
    ],
)
def test_the_rule(layer: PageLayer, usable: bool, reason: str) -> None:
    assert (judge(layer).usable, judge(layer).reason) == (usable, reason)
