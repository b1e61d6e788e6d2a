"""Public or not: IPv6 addresses that carry an IPv4 address are judged by that IPv4 address."""

from __future__ import annotations

import ipaddress

import pytest

from shared.outbound.addresses import embedded_ipv4, is_public


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("2002:a9fe:a9fe::1", "169.254.169.254"),
        ("64:ff9b::a00:1", "10.0.0.1"),  # NAT64 well-known prefix
        ("::ffff:192.168.0.1", "192.168.0.1"),  # IPv4-mapped
    ],
)
def test_embedded_private_ipv4_is_not_public(address: str, inner: str) -> None:
    ip = ipaddress.ip_address(address)
    assert embedded_ipv4(ip) == ipaddress.ip_address(inner)
    assert not is_public(ip)


@pytest.mark.parametrize(
    "address", ["2002:808:808::", "64:ff9b::808:808", "::ffff:8.8.8.8", "2606:4700::1111"]
)
def test_embedded_public_ipv4_and_plain_public_ipv6_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["::1", "fe80::1", "fd00::1", "::", "ff02::1", "::127.0.0.1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
)
def test_other_special_ipv6_ranges_stay_refused(address: str) -> None:
    # loopback, link-local, unique local, unspecified, multicast, IPv4-compatible, Teredo
    assert not is_public(ipaddress.ip_address(address))
