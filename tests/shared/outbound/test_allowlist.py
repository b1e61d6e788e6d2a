"""OCR_URL_ALLOWLIST entries: networks, addresses and host names, each with an optional port;
entries that could never match are refused when the settings are read."""

from __future__ import annotations

import ipaddress
import re

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.outbound.allowlist import AllowEntry, AllowlistError, allows, parse_allowlist

LOOPBACK = ipaddress.ip_address("127.0.0.1")


def test_entries_parse_into_networks_hosts_and_ports() -> None:
    entries = parse_allowlist(
        " 10.0.0.0/8, 127.0.0.1:8080 ,[::1]:9000, fd00::/8, Files.Internal., files.internal:8443,"
    )
    assert entries == [
        AllowEntry(network=ipaddress.ip_network("10.0.0.0/8")),
        AllowEntry(network=ipaddress.ip_network("127.0.0.1/32"), port=8080),
        AllowEntry(network=ipaddress.ip_network("::1/128"), port=9000),
        AllowEntry(network=ipaddress.ip_network("fd00::/8")),
        AllowEntry(host="files.internal"),
        AllowEntry(host="files.internal", port=8443),
    ]


def test_a_port_entry_allows_that_port_only() -> None:
    entries = parse_allowlist("127.0.0.1:8080")
    assert allows(entries, "127.0.0.1", 8080, LOOPBACK)
    assert not allows(entries, "127.0.0.1", 8081, LOOPBACK)
    assert not allows(entries, "127.0.0.2", 8080, ipaddress.ip_address("127.0.0.2"))


def test_a_host_entry_matches_the_name_in_the_url_whatever_it_resolves_to() -> None:
    entries = parse_allowlist("files.internal:8443")
    assert allows(entries, "FILES.internal.", 8443, ipaddress.ip_address("10.1.2.3"))
    assert not allows(entries, "files.internal", 443, ipaddress.ip_address("10.1.2.3"))
    assert not allows(entries, "other.internal", 8443, ipaddress.ip_address("10.1.2.3"))


def test_a_network_entry_also_matches_the_ipv4_an_ipv6_address_embeds() -> None:
    entries = parse_allowlist("127.0.0.0/8")
    assert allows(entries, "h", 80, ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not allows(entries, "h", 80, ipaddress.ip_address("::1"))


@pytest.mark.parametrize(
    "entry",
    [
        "http://files.internal/",
        "files.internal:http",
        "127.0.0.1:0",
        "127.0.0.1:70000",
        "10.0.0.0/33",
        "*.internal",
        "files.internal/path",
        "[::1",
        "[::1]8080",
        "[files.internal]:80",
        "-bad-.internal",
    ],
)
def test_entries_that_cannot_match_are_refused(entry: str) -> None:
    with pytest.raises(AllowlistError):
        parse_allowlist(entry)


def test_settings_with_an_unmatchable_entry_do_not_load() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("OCR_URL_ALLOWLIST entry 'http://files.internal:8080/'")
    ):
        Settings(_env_file=None, url_allowlist="10.0.0.0/8, http://files.internal:8080/")  # type: ignore[call-arg]
    settings = Settings(_env_file=None, url_allowlist="127.0.0.1:8080")  # type: ignore[call-arg]
    assert settings.url_allowlist == "127.0.0.1:8080"
