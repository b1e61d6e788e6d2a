"""OCR_URL_ALLOWLIST: the private places outbound requests may still reach.

Entries are comma-separated; each names a network or a host name, and optionally one port:

    10.0.0.0/8            any port of any address in the network
    127.0.0.1:8080        that address, port 8080 only
    [::1]:8080  [fd00::/8]:443
    files.internal        that host name (as written in the URL), any port
    files.internal:8443   that host name, port 8443 only

An entry that could never match (a URL, a path, a port that is not 1-65535, a wildcard) is an
error when the settings are read, instead of an entry that silently allows nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from shared.outbound.addresses import IPAddress, IPNetwork, embedded_ipv4

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class AllowlistError(ValueError):
    """An entry of OCR_URL_ALLOWLIST that cannot match anything."""


@dataclass(frozen=True)
class AllowEntry:
    network: IPNetwork | None = None
    host: str | None = None
    port: int | None = None  # None: every port

    def matches(self, host: str, port: int, address: IPAddress) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == normal_host(host)
        assert self.network is not None
        network = self.network
        candidates = [address, embedded_ipv4(address)]
        return any(a is not None and a.version == network.version and a in network for a in candidates)


Allowlist = Iterable[AllowEntry]


def normal_host(host: str) -> str:
    return host.lower().rstrip(".")


def parse_allowlist(spec: str) -> list[AllowEntry]:
    """`10.0.0.0/8, 127.0.0.1:8080, files.internal` → entries; raises AllowlistError."""
    return [parse_entry(item.strip()) for item in spec.split(",") if item.strip()]


def parse_entry(item: str) -> AllowEntry:
    if "://" in item:
        raise AllowlistError(f"OCR_URL_ALLOWLIST entry {item!r} is a URL; write only its host and port")
    where, port = _split_port(item)
    try:
        return AllowEntry(network=ipaddress.ip_network(where, strict=False), port=port)
    except ValueError:
        pass
    host = normal_host(where)
    if item.startswith("[") or not host or not all(_LABEL.match(label) for label in host.split(".")):
        raise AllowlistError(
            f"OCR_URL_ALLOWLIST entry {item!r} is neither a network (10.0.0.0/8, [fd00::/8]), an "
            "address nor a host name, each with an optional :port; it would match nothing"
        )
    return AllowEntry(host=host, port=port)


def _split_port(item: str) -> tuple[str, int | None]:
    if item.startswith("["):
        inside, bracket, rest = item[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise AllowlistError(
                f"OCR_URL_ALLOWLIST entry {item!r}: write IPv6 as [address] or [address]:port"
            )
        return inside, _port(item, rest[1:]) if rest else None
    if item.count(":") == 1:  # more than one colon is a bare IPv6 address, which has no port
        where, _, port = item.partition(":")
        return where, _port(item, port)
    return item, None


def _port(item: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise AllowlistError(f"OCR_URL_ALLOWLIST entry {item!r}: the port must be a number from 1 to 65535")
    return int(text)


def allows(allowlist: Allowlist, host: str, port: int, address: IPAddress) -> bool:
    return any(entry.matches(host, port, address) for entry in allowlist)
