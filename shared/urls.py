"""Outbound URL safety (SSRF): only http(s), and never a private, loopback, link-local,
multicast or reserved address unless the operator allowlisted it (host and port). Every address
a name resolves to is checked, and the outbound client checks again on each redirect hop.

`check_url` is the early check (at submission, with a clear 4xx). The connection itself must go
to an address that was checked, so that a name that changes its answer between the check and
the connection (DNS rebinding) cannot reach a private address: every outbound request goes
through `shared.outbound.client.OutboundClient`, whose transport resolves once with
`vetted_addresses` and connects to one of those addresses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import InvalidRequest, Unprocessable
from shared.outbound.addresses import IPAddress, IPNetwork, is_public
from shared.outbound.allowlist import Allowlist, AllowlistError, allows, parse_allowlist

__all__ = [
    "Allowlist",
    "AllowlistError",
    "HostNotResolved",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "Target",
    "allowed_addresses",
    "check_url",
    "parse_allowlist",
    "parse_s3_uri",
    "refuse_control_characters",
    "resolve",
    "target_of",
    "vetted_addresses",
]

# C0 controls and DEL: urlsplit silently drops TAB, CR and LF (and keeps NUL), so the URL that
# was checked would not be the URL that is stored and later sent
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HostNotResolved(InvalidRequest):
    """The name did not resolve. Refused at submit; a later delivery treats it as transient."""


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotResolved(f"the host {host!r} cannot be resolved", "invalid_url") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


Resolver = Callable[[str, int], list[IPAddress]]


def refuse_control_characters(url: str) -> str:
    found = _CONTROL.search(url)
    if found:
        raise Unprocessable(
            f"the URL contains the control character {found.group()!r} at position {found.start()}; "
            "URLs may not carry CR, LF, TAB, NUL or other control characters (percent-encode them)",
            "url_control_characters",
        )
    return url


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def target_of(url: str) -> Target:
    """Where `url` points, refusing what no outbound request may carry. No DNS."""
    refuse_control_characters(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest("only http and https URLs are accepted", "invalid_url")
    if not parts.hostname:
        raise InvalidRequest("the URL has no host", "invalid_url")
    if parts.username or parts.password:
        raise InvalidRequest("URLs with credentials are not accepted", "invalid_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidRequest("the URL's port is not a number from 0 to 65535", "invalid_url") from exc
    return Target(parts.scheme, parts.hostname, port)


def vetted_addresses(
    host: str, port: int, allowlist: Allowlist = (), resolver: Resolver = resolve
) -> list[IPAddress]:
    """Resolve `host` once; every address must be public or allowlisted for this host and
    port. Returns them."""
    allow = list(allowlist)
    addresses = resolver(host, port)
    for address in addresses:
        if not is_public(address) and not allows(allow, host, port, address):
            raise InvalidRequest(
                f"the URL's host resolves to {address} (port {port}), a private or reserved "
                "address; ask the operator to allowlist it (OCR_URL_ALLOWLIST) if it is meant to "
                "be reachable",
                "url_not_allowed",
            )
    return addresses


def check_url(url: str, allowlist: Allowlist = (), resolver: Resolver = resolve) -> str:
    """Raise InvalidRequest unless `url` is http(s) and every address of its host is public or
    allowlisted. Returns the URL."""
    allowed_addresses(url, allowlist, resolver)
    return url


def allowed_addresses(url: str, allowlist: Allowlist = (), resolver: Resolver = resolve) -> list[IPAddress]:
    """The addresses `url`'s host resolves to, all checked as `check_url` does."""
    target = target_of(url)
    return vetted_addresses(target.host, target.port, allowlist, resolver)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` → (bucket, key)."""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key:
        raise InvalidRequest("s3_uri must look like s3://bucket/key", "invalid_s3_uri")
    return parts.netloc, key
