"""Outbound URL safety (SSRF): only http(s), and never a private, loopback, link-local,
multicast or reserved address unless the operator allowlisted it. Every address a name resolves
to is checked, and callers check again on each redirect hop."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allowlist(spec: str) -> list[IPNetwork | str]:
    """`10.0.0.0/8,127.0.0.1,files.internal` → networks and host names."""
    entries: list[IPNetwork | str] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            entries.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            entries.append(item.lower())
    return entries


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allowed(host: str, address: IPAddress, allowlist: Iterable[IPNetwork | str]) -> bool:
    for entry in allowlist:
        if isinstance(entry, str):
            if entry == host.lower():
                return True
        elif address.version == entry.version and address in entry:
            return True
    return False


class HostNotResolved(InvalidRequest):
    """The name did not resolve. Refused at submit; a later delivery treats it as transient."""


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotResolved(f"the host {host!r} cannot be resolved", "invalid_url") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def check_url(url: str, allowlist: Iterable[IPNetwork | str] = ()) -> str:
    """Raise InvalidRequest unless `url` is http(s) and every address of its host is public or
    allowlisted. Returns the URL."""
    allowed_addresses(url, allowlist)
    return url


def allowed_addresses(url: str, allowlist: Iterable[IPNetwork | str] = ()) -> list[IPAddress]:
    """The addresses `url`'s host resolves to, all checked as `check_url` does. A caller that
    connects to one of them (instead of resolving again) cannot be turned to a private address
    by a DNS answer that changed in between."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest("only http and https URLs are accepted", "invalid_url")
    if not parts.hostname:
        raise InvalidRequest("the URL has no host", "invalid_url")
    if parts.username or parts.password:
        raise InvalidRequest("URLs with credentials are not accepted", "invalid_url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allow = list(allowlist)
    addresses = resolve(parts.hostname, port)
    for address in addresses:
        if not _is_public(address) and not _allowed(parts.hostname, address, allow):
            raise InvalidRequest(
                f"the URL's host resolves to {address}, a private or reserved address; ask the "
                "operator to allowlist it (OCR_URL_ALLOWLIST) if it is meant to be reachable",
                "url_not_allowed",
            )
    return addresses


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` → (bucket, key)."""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key:
        raise InvalidRequest("s3_uri must look like s3://bucket/key", "invalid_s3_uri")
    return parts.netloc, key
