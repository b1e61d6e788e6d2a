"""The outbound URL guard (SSRF)."""

from __future__ import annotations

import pytest

from shared.errors import InvalidRequest, Unprocessable
from shared.urls import check_url, parse_allowlist, parse_s3_uri


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.pdf",
        "http://localhost:8000/x.pdf",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_and_reserved_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_url(url)
    assert caught.value.code == "url_not_allowed"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/", "http:///x"]
)
def test_other_schemes_credentials_and_missing_hosts_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_url(url)
    assert caught.value.code == "invalid_url"


def test_unresolvable_hosts_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="cannot be resolved"):
        check_url("http://no-such-host.invalid/x.pdf")


def test_allowlisted_networks_and_hosts_pass() -> None:
    assert check_url("http://127.0.0.1:9/x", parse_allowlist("127.0.0.0/8"))
    assert check_url("http://localhost/x", parse_allowlist("localhost"))
    with pytest.raises(InvalidRequest):
        check_url("http://10.0.0.1/x", parse_allowlist("127.0.0.0/8, files.internal"))


def test_s3_uris_split_into_bucket_and_key() -> None:
    assert parse_s3_uri("s3://bucket/a/b.pdf") == ("bucket", "a/b.pdf")
    for bad in ("s3://bucket", "s3://bucket/", "http://bucket/key", "s3:///key"):
        with pytest.raises(InvalidRequest):
            parse_s3_uri(bad)


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::]/latest/meta-data/",  # 6to4 of 169.254.169.254
        "http://[64:ff9b::a00:1]/x",  # NAT64 of 10.0.0.1
        "http://[::ffff:a9fe:a9fe]/x",  # IPv4-mapped 169.254.169.254
    ],
)
def test_ipv6_addresses_embedding_a_private_ipv4_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_url(url)
    assert caught.value.code == "url_not_allowed"


def test_an_allowlisted_port_does_not_open_the_other_ports() -> None:
    allowlist = parse_allowlist("127.0.0.1:8080, files.internal:8443")
    assert check_url("http://127.0.0.1:8080/x", allowlist)
    with pytest.raises(InvalidRequest, match=r"127\.0\.0\.1 \(port 8081\)"):
        check_url("http://127.0.0.1:8081/x", allowlist)
    with pytest.raises(InvalidRequest):
        check_url("http://127.0.0.1/x", allowlist)


@pytest.mark.parametrize("char", ["\r", "\n", "\t", "\x00", "\x1b", "\x7f"])
def test_control_characters_are_refused_before_anything_else(char: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_url(f"https://files.example/a{char}b.pdf")
    assert caught.value.code == "url_control_characters"
    assert caught.value.status == 422
    assert repr(char) in caught.value.message
