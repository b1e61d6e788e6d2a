"""The archive safety rules on plain data: each rule refuses or skips what it should, and
nothing else."""

from __future__ import annotations

import pytest

from shared.archives.rules import (
    ArchiveLimits,
    ArchiveRefused,
    RawEntry,
    check_entries,
    check_no_overlap,
    normalize_name,
)

LIMITS = ArchiveLimits(
    max_members=10, max_total_bytes=100 * 1024 * 1024, max_ratio=100, max_member_bytes=10**7
)
MIB = 1024 * 1024


def entry(index: int, name: str, size: int = 1000, **fields: object) -> RawEntry:
    return RawEntry(index=index, name=name, kind=fields.pop("kind", "file"), size=size, **fields)  # type: ignore[arg-type]


def test_names_are_normalized_to_clean_relative_paths() -> None:
    assert normalize_name("./a//b/./c.pdf") == "a/b/c.pdf"
    assert normalize_name("dir\\sub\\x.pdf") == "dir/sub/x.pdf"


@pytest.mark.parametrize("name", ["../evil.pdf", "a/../../evil.pdf", "a\\..\\..\\evil.pdf", "ok/.."])
def test_a_name_escaping_the_root_refuses_the_whole_archive(name: str) -> None:
    with pytest.raises(ArchiveRefused) as caught:
        check_entries([entry(0, "fine.pdf"), entry(1, name)], LIMITS, 10_000)
    assert caught.value.code == "archive_path_traversal"


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "C:/Windows/x.pdf", "c:evil.pdf", "\\\\server\\share\\x.pdf"]
)
def test_an_absolute_name_refuses_the_whole_archive(name: str) -> None:
    with pytest.raises(ArchiveRefused) as caught:
        check_entries([entry(0, name)], LIMITS, 10_000)
    assert caught.value.code == "archive_absolute_path"


def test_a_member_expanding_past_the_ratio_is_a_bomb() -> None:
    bomb = entry(0, "zeros.pdf", size=50 * MIB, compressed_size=50 * MIB // 1000)
    with pytest.raises(ArchiveRefused) as caught:
        check_entries([bomb], LIMITS, 60_000)
    assert caught.value.code == "archive_bomb"


def test_a_high_ratio_on_a_small_member_is_harmless() -> None:
    small = entry(0, "notes.pdf", size=200_000, compressed_size=100)
    assert check_entries([small], LIMITS, 200)[0].skip is None


def test_the_total_expanded_size_is_capped_before_reading_further() -> None:
    def entries():  # type: ignore[no-untyped-def]
        yield entry(0, "a.pdf", size=60 * MIB)
        yield entry(1, "b.pdf", size=60 * MIB)
        raise AssertionError("the rules read past the entry that broke the cap")

    with pytest.raises(ArchiveRefused) as caught:
        check_entries(entries(), LIMITS, 120 * MIB)
    assert caught.value.code == "archive_too_large"


def test_a_compressed_stream_is_judged_as_a_whole() -> None:
    entries = [entry(i, f"{i}.pdf", size=2 * MIB) for i in range(3)]
    assert len(check_entries(entries, LIMITS, 6 * MIB, whole_ratio=True)) == 3
    with pytest.raises(ArchiveRefused) as caught:
        check_entries(entries, LIMITS, 30_000, whole_ratio=True)
    assert caught.value.code == "archive_bomb"


def test_too_many_entries_are_refused() -> None:
    with pytest.raises(ArchiveRefused) as caught:
        check_entries([entry(i, f"{i}.pdf") for i in range(11)], LIMITS, 10_000)
    assert caught.value.code == "archive_too_many_members"


def test_an_archive_of_folders_only_is_empty() -> None:
    with pytest.raises(ArchiveRefused) as caught:
        check_entries([entry(0, "dir/", kind="dir", size=0)], LIMITS, 100)
    assert caught.value.code == "archive_empty"


def test_unusable_members_are_skipped_with_their_reason() -> None:
    entries = [
        entry(0, "docs/", kind="dir", size=0),
        entry(1, "docs/a.pdf"),
        entry(2, "docs/link.pdf", kind="symlink", size=0),
        entry(3, "docs/hard.pdf", kind="hardlink", size=0),
        entry(4, "dev", kind="special", size=0),
        entry(5, "docs/inner.zip"),
        entry(6, "docs/secret.pdf", encrypted=True),
        entry(7, "docs/lzma.pdf", compression_supported=False),
        entry(8, "docs/empty.pdf", size=0),
        entry(9, "docs/a.pdf"),
        entry(10, "docs/huge.pdf", size=2 * 10**7, compressed_size=10**7),
        entry(11, "bad\x01name.pdf"),
    ]
    limits = ArchiveLimits(max_members=100, max_total_bytes=10**9, max_ratio=100, max_member_bytes=10**7)
    members = check_entries(entries, limits, 10**8)
    assert [(m.index, m.skip) for m in members] == [
        (1, None),
        (2, "member_link"),
        (3, "member_link"),
        (4, "member_special_file"),
        (5, "member_nested_archive"),
        (6, "member_encrypted"),
        (7, "member_unsupported_compression"),
        (8, "member_empty"),
        (9, "member_duplicate"),
        (10, "member_too_large"),
        (11, "member_invalid_name"),
    ]
    assert all(m.skip_message for m in members if m.skip)


def test_overlapping_zip_entries_are_a_bomb() -> None:
    apart = [entry(0, "a", offset=0, compressed_size=100), entry(1, "b", offset=140, compressed_size=100)]
    check_no_overlap(apart)
    overlapping = [
        entry(0, "a", offset=0, compressed_size=100),
        entry(1, "b", offset=60, compressed_size=100),
    ]
    with pytest.raises(ArchiveRefused) as caught:
        check_no_overlap(overlapping)
    assert caught.value.code == "archive_bomb"
