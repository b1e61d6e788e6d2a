"""The API key format, pure: `ocrp_<lookup>_<secret>`.

- `ocrp_` makes a leaked key recognisable (secret scanners, log reviews);
- `lookup` (12 characters) finds the row without revealing anything about the secret;
- `secret` is 32 random bytes (256 bits), so a plain SHA-256 is the right hash: there is
  nothing to brute-force, and a slow password hash would only slow every request down.

Only the lookup and the SHA-256 of the whole key are stored; the check is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "ocrp_"
LOOKUP_LENGTH = 12
_LOOKUP_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_MAX_LENGTH = 200

SCOPES = ("submit", "read", "admin")
DEFAULT_SCOPES = ("submit", "read")


@dataclass(frozen=True)
class NewToken:
    token: str
    lookup: str
    secret_hash: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> NewToken:
    lookup = "".join(secrets.choice(_LOOKUP_ALPHABET) for _ in range(LOOKUP_LENGTH))
    token = f"{PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    return NewToken(token, lookup, hash_token(token))


def lookup_of(token: str) -> str | None:
    """The lookup part of a well-formed token, else None."""
    if len(token) > _MAX_LENGTH or not token.startswith(PREFIX):
        return None
    rest = token[len(PREFIX) :]
    lookup, sep, secret = (
        rest[:LOOKUP_LENGTH],
        rest[LOOKUP_LENGTH : LOOKUP_LENGTH + 1],
        rest[LOOKUP_LENGTH + 1 :],
    )
    if sep != "_" or not secret or any(c not in _LOOKUP_ALPHABET for c in lookup):
        return None
    return lookup


def token_matches(token: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), secret_hash)


def parse_scopes(spec: str) -> tuple[str, ...]:
    """`submit,read` → ("read", "submit"); unknown scopes raise ValueError."""
    wanted = {s.strip() for s in spec.split(",") if s.strip()}
    unknown = wanted - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(sorted(unknown))}; choose from {', '.join(SCOPES)}")
    if not wanted:
        raise ValueError("give at least one scope")
    return tuple(sorted(wanted))
