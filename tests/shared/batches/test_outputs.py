"""Output mirroring paths: the source's relative path with the extension replaced."""

from __future__ import annotations

from shared.batches.outputs import output_keys, relative_stem


def test_s3_keys_keep_their_path_relative_to_the_source_prefix() -> None:
    stem = relative_stem("scans/a/b.pdf", kind="s3", source_prefix="scans/")
    assert stem == "a/b"
    assert output_keys("out/", stem) == {"markdown": "out/a/b.md", "layout": "out/a/b.layout.json"}


def test_names_without_extension_and_dotfiles_keep_their_name() -> None:
    assert relative_stem("scans/README", kind="s3", source_prefix="scans/") == "README"
    assert relative_stem(".hidden", kind="archive") == ".hidden"
    assert relative_stem("a/report.v2.pdf", kind="archive") == "a/report.v2"


def test_odd_s3_keys_cannot_climb_out_of_the_output_prefix() -> None:
    assert relative_stem("scans//a/./../b.pdf", kind="s3", source_prefix="scans/") == "a/__/b"
    assert relative_stem("scans/", kind="s3", source_prefix="scans/") == "document"


def test_urls_map_to_host_and_path_with_a_digest_of_the_query() -> None:
    assert relative_stem("https://files.example/x/y.pdf", kind="urls") == "files.example/x/y"
    with_query = relative_stem("https://files.example/get.pdf?id=7", kind="urls")
    other_query = relative_stem("https://files.example/get.pdf?id=8", kind="urls")
    assert with_query.startswith("files.example/get_")
    assert with_query != other_query
    assert relative_stem("https://files.example/a b/%2e%2e/c.pdf", kind="urls") == "files.example/a_b/__/c"
