"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass

ALL_SCOPES = frozenset({"submit", "read", "admin"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: the owner every row they create belongs to, what they may do, and the
    key they used (None when authentication is off)."""

    owner: str
    scopes: frozenset[str] = ALL_SCOPES
    key_id: str | None = None
    # the key's default webhook URL, for tasks submitted without one
    webhook_url: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def rate_identity(self) -> str:
        return f"key:{self.key_id}" if self.key_id else f"owner:{self.owner}"


# every caller when authentication is off (OCR_AUTH_ENABLED=false)
ANONYMOUS = Caller(owner="default")
