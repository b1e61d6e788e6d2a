"""Client metadata: a flat, small JSON object (plain data in, value or error out)."""

from __future__ import annotations

import pytest

from shared.errors import Unprocessable
from shared.task_metadata import MAX_BYTES, parse_form_metadata


def test_a_flat_object_is_kept_as_given() -> None:
    assert parse_form_metadata('{"order": "A-17", "n": 3, "ok": true, "x": null, "f": 1.5}') == {
        "order": "A-17",
        "n": 3,
        "ok": True,
        "x": None,
        "f": 1.5,
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[1]", "valid dictionary"),
        ('{"a": {"b": 1}}', "metadata.a"),
        ("{" * 3000, "JSON object"),
        ("x" * (4 * MAX_BYTES + 1), "larger than"),
        ('{"a": "' + "é" * 2100 + '"}', "metadata.a"),  # over the 512-character value limit
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        parse_form_metadata(text)
    assert refused.value.code == "invalid_metadata"
    assert says in refused.value.message
