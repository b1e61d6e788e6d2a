"""Real zip and tar files through the readers: hostile archives are refused or their members
skipped, and good members read back byte for byte."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from shared.archives import (
    ArchiveFormat,
    ArchiveLimits,
    ArchiveReader,
    ArchiveRefused,
    decompress_tar,
    scan_archive,
)
from shared.archives.formats import looks_like_archive, sniff_archive
from tests.fixtures.documents import tar_bytes, tar_link, tiny_pdf, zip_bytes, zip_symlink

LIMITS = ArchiveLimits(
    max_members=1000, max_total_bytes=40 * 1024 * 1024, max_ratio=100, max_member_bytes=10**8
)


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def scan(path: str, limits: ArchiveLimits = LIMITS):  # type: ignore[no-untyped-def]
    data = Path(path).read_bytes()
    fmt = sniff_archive(data[:512])
    assert fmt is not None
    return scan_archive(path, fmt, len(data), limits)


def test_formats_are_told_apart_by_content() -> None:
    pdf = tiny_pdf("x")
    assert sniff_archive(zip_bytes([("a.pdf", pdf)])[:512]) == ArchiveFormat.zip
    assert sniff_archive(tar_bytes([("a.pdf", pdf)])[:512]) == ArchiveFormat.tar
    assert sniff_archive(tar_bytes([("a.pdf", pdf)], mode="w:gz")[:512]) == ArchiveFormat.tar_gz
    assert sniff_archive(tar_bytes([("a.pdf", pdf)], mode="w:bz2")[:512]) == ArchiveFormat.tar_bz2
    assert sniff_archive(tar_bytes([("a.pdf", pdf)], mode="w:xz")[:512]) == ArchiveFormat.tar_xz
    assert sniff_archive(pdf[:512]) is None
    assert looks_like_archive(b"7z\xbc\xaf\x27\x1c rest")
    assert not looks_like_archive(pdf[:512])


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.zip", zip_bytes([("zeros.pdf", b"\0" * (30 * 1024 * 1024))]))
    assert Path(path).stat().st_size < 100_000
    with pytest.raises(ArchiveRefused) as caught:
        scan(path)
    assert caught.value.code == "archive_bomb"


def test_a_zip_whose_entries_overlap_is_refused(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("a.pdf", tiny_pdf("a")), ("b.pdf", tiny_pdf("b"))]))
    # point the second central-directory entry at the first entry's data
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, second + 42, 0)
    with pytest.raises(ArchiveRefused) as caught:
        scan(write(tmp_path, "overlap.zip", bytes(data)))
    assert caught.value.code == "archive_bomb"


def test_a_tar_gz_bomb_is_refused_before_its_data_is_inflated(tmp_path: Path) -> None:
    info = tarfile.TarInfo("zeros.pdf")
    info.size = 30 * 1024 * 1024
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(info, io.BytesIO(b"\0" * info.size))
    with pytest.raises(ArchiveRefused) as caught:
        scan(write(tmp_path, "bomb.tar.gz", buffer.getvalue()))
    assert caught.value.code == "archive_bomb"


def test_a_tar_past_the_size_cap_is_refused(tmp_path: Path) -> None:
    small = ArchiveLimits(max_members=10, max_total_bytes=5000, max_ratio=100, max_member_bytes=10**6)
    path = write(tmp_path, "big.tar", tar_bytes([("a.pdf", b"%PDF-" + b"x" * 6000)]))
    with pytest.raises(ArchiveRefused) as caught:
        scan(path, small)
    assert caught.value.code == "archive_too_large"


@pytest.mark.parametrize(
    ("name", "code"),
    [("../../etc/cron.d/x.pdf", "archive_path_traversal"), ("/abs/x.pdf", "archive_absolute_path")],
)
def test_traversal_and_absolute_names_refuse_zips_and_tars(tmp_path: Path, name: str, code: str) -> None:
    pdf = tiny_pdf("x")
    for label, data in (
        ("z.zip", zip_bytes([("ok.pdf", pdf), (name, pdf)])),
        ("t.tar", tar_bytes([(name, pdf)])),
    ):
        with pytest.raises(ArchiveRefused) as caught:
            scan(write(tmp_path, label, data))
        assert caught.value.code == code


def test_corrupt_archives_are_refused(tmp_path: Path) -> None:
    whole = zip_bytes([("a.pdf", tiny_pdf("a"))])
    with pytest.raises(ArchiveRefused) as caught:
        scan(write(tmp_path, "cut.zip", whole[: len(whole) // 2]))
    assert caught.value.code == "archive_corrupt"
    with pytest.raises(ArchiveRefused) as caught:
        scan(write(tmp_path, "junk.tar.gz", b"\x1f\x8b" + b"not gzip at all" * 40))
    assert caught.value.code == "archive_corrupt"


def test_links_and_special_files_in_a_tar_are_skipped(tmp_path: Path) -> None:
    fifo = tarfile.TarInfo("pipe")
    fifo.type = tarfile.FIFOTYPE
    data = tar_bytes(
        [
            ("docs/a.pdf", tiny_pdf("a")),
            tar_link("docs/sym.pdf", "/etc/passwd"),
            tar_link("docs/hard.pdf", "docs/a.pdf", tarfile.LNKTYPE),
            fifo,
        ]
    )
    members = scan(write(tmp_path, "t.tar", data))
    assert [(m.name, m.skip) for m in members] == [
        ("docs/a.pdf", None),
        ("docs/sym.pdf", "member_link"),
        ("docs/hard.pdf", "member_link"),
        ("pipe", "member_special_file"),
    ]


def test_zip_symlinks_and_nested_archives_are_skipped(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.pdf", tiny_pdf("a"))
        archive.writestr(zip_symlink("link.pdf", "/etc/passwd"), "/etc/passwd")
        archive.writestr("inner.zip", zip_bytes([("b.pdf", tiny_pdf("b"))]))
    members = scan(write(tmp_path, "z.zip", buffer.getvalue()))
    assert [(m.name, m.skip) for m in members] == [
        ("a.pdf", None),
        ("link.pdf", "member_link"),
        ("inner.zip", "member_nested_archive"),
    ]


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz"])
def test_members_of_a_compressed_tar_read_back_exactly(tmp_path: Path, mode: str) -> None:
    docs = [(f"d/{i}.pdf", tiny_pdf(f"doc {i}")) for i in range(3)]
    path = write(tmp_path, "t.tar.x", tar_bytes(docs, mode=mode))
    fmt = sniff_archive(Path(path).read_bytes()[:512])
    assert fmt is not None
    members = scan(path)
    plain = str(tmp_path / "plain.tar")
    decompress_tar(path, plain, fmt, LIMITS)
    with ArchiveReader(plain, ArchiveFormat.tar) as reader:
        for member, (_, data) in zip(members, docs, strict=True):
            with reader.open(member.index) as handle:
                assert handle.read() == data


def test_decompressing_stops_at_the_cap(tmp_path: Path) -> None:
    path = write(tmp_path, "t.tar.gz", tar_bytes([("a.pdf", b"%PDF-" + b"\0" * 100_000)], mode="w:gz"))
    small = ArchiveLimits(max_members=1, max_total_bytes=50_000, max_ratio=100, max_member_bytes=10**8)
    with pytest.raises(ArchiveRefused) as caught:
        decompress_tar(path, str(tmp_path / "out.tar"), ArchiveFormat.tar_gz, small)
    assert caught.value.code == "archive_too_large"


def test_zip_members_read_back_by_index(tmp_path: Path) -> None:
    docs = [("x/1.pdf", tiny_pdf("one")), ("x/2.pdf", tiny_pdf("two"))]
    path = write(tmp_path, "z.zip", zip_bytes(docs))
    with ArchiveReader(path, ArchiveFormat.zip) as reader:
        members = reader.members(Path(path).stat().st_size, LIMITS)
        assert [m.name for m in members] == ["x/1.pdf", "x/2.pdf"]
        with reader.open(members[1].index) as handle:
            assert handle.read() == docs[1][1]
