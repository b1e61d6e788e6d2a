"""Batch sources as plain data: S3 prefixes, globs, URL lists."""

from __future__ import annotations

import pytest

from shared.batches.sources import (
    S3Prefix,
    matches_glob,
    output_prefix,
    parse_s3_prefix,
    parse_url_list,
    source_key,
    source_label,
)
from shared.errors import OcrpError


def test_an_s3_prefix_splits_into_bucket_and_prefix() -> None:
    assert parse_s3_prefix("s3://scans/2024/q1/", "s3_prefix") == S3Prefix("scans", "2024/q1/")
    assert parse_s3_prefix("s3://scans", "s3_prefix") == S3Prefix("scans", "")
    assert S3Prefix("scans", "2024/").relative("2024/a/b.pdf") == "a/b.pdf"


@pytest.mark.parametrize(
    "uri", ["http://bucket/x", "s3:///x", "s3://UPPER/x", "s3://b/x?versionId=1", "bucket/x"]
)
def test_malformed_prefixes_are_refused_with_the_field_in_the_code(uri: str) -> None:
    with pytest.raises(OcrpError) as caught:
        parse_s3_prefix(uri, "s3_prefix")
    assert caught.value.code == "invalid_s3_prefix"
    assert caught.value.status == 400


def test_an_output_prefix_always_names_a_folder() -> None:
    assert output_prefix("s3://out/results").prefix == "results/"
    assert output_prefix("s3://out/results/").prefix == "results/"
    assert output_prefix("s3://out").prefix == ""


def test_a_glob_matches_keys_relative_to_the_prefix_at_any_depth() -> None:
    assert matches_glob("a/b/c.pdf", "*.pdf")
    assert not matches_glob("a/b/c.PDF", "*.pdf")
    assert matches_glob("2024/x.pdf", "2024/*")
    assert matches_glob("anything", None)


def test_url_lists_skip_blanks_and_comments_and_list_repeats_once() -> None:
    lines = [
        "# archive",
        "",
        "https://a.example/1.pdf",
        "  http://b.example/2.pdf  ",
        "https://a.example/1.pdf",
    ]
    assert parse_url_list(lines, 10) == ["https://a.example/1.pdf", "http://b.example/2.pdf"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("ftp://a.example/x.pdf", "not an http(s) URL"),
        ("https://user:pw@a.example/x.pdf", "carries credentials"),
        ("https:///nohost", "has no host"),
        ("https://a.example/" + "x" * 2100, "longer than"),
    ],
)
def test_a_bad_url_is_refused_with_its_line_number(line: str, problem: str) -> None:
    with pytest.raises(OcrpError) as caught:
        parse_url_list(["https://ok.example/a.pdf", line], 10)
    assert caught.value.code == "invalid_url"
    assert caught.value.message.startswith("URL 2 ")
    assert problem in caught.value.message


def test_url_lists_are_bounded_and_must_not_be_empty() -> None:
    with pytest.raises(OcrpError) as caught:
        parse_url_list([f"https://a.example/{i}.pdf" for i in range(4)], 3)
    assert caught.value.code == "too_many_urls"
    with pytest.raises(OcrpError) as caught:
        parse_url_list(["# nothing", ""], 3)
    assert caught.value.code == "source_empty"


def test_source_keys_are_stable_digests_and_labels_name_the_object() -> None:
    assert source_key("a/b.pdf") == source_key("a/b.pdf") != source_key("a/b.pdf ")
    assert len(source_key("x" * 5000)) == 64
    assert source_label("s3", "s3://in/scans/", "scans/a.pdf") == "s3://in/scans/a.pdf"
    assert source_label("urls", None, "https://a.example/x.pdf") == "https://a.example/x.pdf"
