"""Filenames from clients: harmless in records and in Content-Disposition (RFC 6266)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from shared.filenames import ascii_filename, content_disposition, safe_filename


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Résumé 2024.pdf", "Résumé 2024.pdf"),
        ("報告書.pdf", "報告書.pdf"),
        ("evil\u202egnp.pdf", "evil_gnp.pdf"),  # a right-to-left override would disguise the extension
        ("a;b,c=d.pdf", "a_b_c_d.pdf"),
        ("tab\there.pdf", "tab_here.pdf"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("x" * 500 + ".pdf", "x" * 200),
    ],
)
def test_safe_filename_keeps_letters_of_every_script_and_drops_the_rest(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_an_ascii_name_gets_a_plain_filename_parameter() -> None:
    assert content_disposition("report.md") == 'attachment; filename="report.md"'
    assert content_disposition("report.md", inline=True) == 'inline; filename="report.md"'


def test_a_non_ascii_name_gets_an_ascii_fallback_and_the_exact_name_as_filename_star() -> None:
    header = content_disposition("Résumé (final).md")
    plain, star = header.split("; filename*=")
    assert plain == 'attachment; filename="Resume (final).md"'
    assert star.startswith("UTF-8''")
    assert unquote(star.removeprefix("UTF-8''")) == "Résumé (final).md"
    assert all(ord(c) < 128 for c in header)


def test_a_hostile_name_cannot_break_out_of_the_header() -> None:
    header = content_disposition('x"; filename="evil.exe"\r\nSet-Cookie: a=b.md')
    assert "\r" not in header
    assert "\n" not in header
    assert header.count('"') == 2
    assert 'filename="evil.exe"' not in header


def test_names_without_any_ascii_letter_fall_back() -> None:
    assert ascii_filename("報告書") == "document"
    assert content_disposition("報告書.md").startswith('attachment; filename="document.md"; filename*=')


def test_a_url_or_s3_uri_names_its_document_by_the_end_of_its_path() -> None:
    from shared.filenames import filename_of_uri

    assert filename_of_uri("https://h.example/papers/a%20b.pdf?x=1#p2") == "a b.pdf"
    assert filename_of_uri("s3://bucket/scans/2026/report.pdf") == "report.pdf"
    assert filename_of_uri("https://h.example/dir/") == "dir"
    assert filename_of_uri("https://h.example/") is None
    assert filename_of_uri("https://h.example/%2e%2e%2f%2e%2e%2fetc%2fpasswd") == "passwd"
