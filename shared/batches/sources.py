"""Batch sources as plain data: S3 prefixes, key globs, URL lists, and the archive limits.

Only syntax is checked here; whether a bucket answers is asked at submit (server side) and
whether a URL's host is allowed is asked by the worker that fetches it (SSRF guard).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.archives.rules import ArchiveLimits
from shared.config import Settings
from shared.errors import InvalidRequest, Unprocessable
from shared.urls import refuse_control_characters

MAX_URL_CHARS = 2048
MAX_GLOB_CHARS = 500
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,254}$")


@dataclass(frozen=True)
class S3Prefix:
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def relative(self, key: str) -> str:
        return key[len(self.prefix) :].lstrip("/")


def parse_s3_prefix(uri: str, field: str) -> S3Prefix:
    """`s3://bucket/some/prefix/` → S3Prefix; the prefix may be empty (the whole bucket)."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not _BUCKET.match(parts.netloc) or parts.query or parts.fragment:
        raise InvalidRequest(
            f"{field} must look like s3://bucket/prefix/ (got {uri[:200]!r})", f"invalid_{field}"
        )
    return S3Prefix(parts.netloc, parts.path.lstrip("/"))


def output_prefix(uri: str) -> S3Prefix:
    """An output prefix always names a folder: a missing trailing slash is added."""
    parsed = parse_s3_prefix(uri, "output_prefix")
    if parsed.prefix and not parsed.prefix.endswith("/"):
        return S3Prefix(parsed.bucket, parsed.prefix + "/")
    return parsed


def check_glob(pattern: str | None) -> str | None:
    if pattern is None or not pattern.strip():
        return None
    if len(pattern) > MAX_GLOB_CHARS:
        raise InvalidRequest(f"glob is longer than {MAX_GLOB_CHARS} characters", "invalid_glob")
    return pattern.strip()


def matches_glob(relative_key: str, pattern: str | None) -> bool:
    """fnmatch on the key relative to the prefix; `*` also matches `/`, so `*.pdf` takes
    PDFs at any depth."""
    return pattern is None or fnmatch.fnmatchcase(relative_key, pattern)


def check_url_syntax(url: str, line: int) -> str:
    try:
        refuse_control_characters(url)
    except Unprocessable as exc:
        raise Unprocessable(f"URL {line}: {exc.message}", exc.code) from None
    parts = urlsplit(url)
    problem = None
    if len(url) > MAX_URL_CHARS:
        problem = f"is longer than {MAX_URL_CHARS} characters"
    elif parts.scheme not in ("http", "https"):
        problem = "is not an http(s) URL"
    elif not parts.hostname:
        problem = "has no host"
    elif parts.username or parts.password:
        problem = "carries credentials"
    if problem:
        raise InvalidRequest(f"URL {line} ({url[:100]!r}) {problem}", "invalid_url")
    return url


def parse_url_list(lines: list[str], max_urls: int) -> list[str]:
    """Validate a URL list: blank lines and `#` comments are ignored, repeats listed once."""
    urls: dict[str, None] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        urls[check_url_syntax(line, number)] = None
        if len(urls) > max_urls:
            raise Unprocessable(f"the list holds more than {max_urls:,} URLs; split it", "too_many_urls")
    if not urls:
        raise Unprocessable("the URL list is empty", "source_empty")
    return list(urls)


def source_key(ref: str) -> str:
    """The unique key of a source object within its batch (a digest: refs can be long)."""
    return hashlib.sha256(ref.encode("utf-8", "surrogatepass")).hexdigest()


def archive_limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(
        max_members=settings.archive_max_members,
        max_total_bytes=settings.archive_max_uncompressed_bytes,
        max_ratio=settings.archive_max_ratio,
        max_member_bytes=settings.max_upload_bytes,
    )


def source_label(kind: str, source_uri: str | None, ref: str) -> str:
    """How a source object is named to people: the full S3 URI, the URL, or the member name."""
    if kind == "s3" and source_uri:
        bucket = source_uri.removeprefix("s3://").split("/", 1)[0]
        return f"s3://{bucket}/{ref}"
    return ref
