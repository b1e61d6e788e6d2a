"""Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 over `{webhook-id}.{timestamp}.{body}`
with each `whsec_` secret. Several secrets give several space-separated signatures, so a receiver
holding either the old or the new secret verifies while a rotation is under way.

Signing goes through the `standardwebhooks` package, the same code receivers verify with.
"""

from __future__ import annotations

import base64
import binascii
import secrets as random_bytes
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32
USER_AGENT = "ocrp-webhooks/1"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(random_bytes.token_bytes(SECRET_BYTES)).decode()


def parse_secrets(spec: str) -> list[str]:
    """`whsec_a,whsec_b` → the secrets, each checked; raises ValueError with the culprit's position."""
    found = [item.strip() for item in spec.split(",") if item.strip()]
    for position, secret in enumerate(found, start=1):
        if not secret.startswith(SECRET_PREFIX):
            raise ValueError(f"webhook secret #{position} must start with {SECRET_PREFIX!r}")
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error:
            raise ValueError(
                f"webhook secret #{position} is not valid base64 after {SECRET_PREFIX!r}"
            ) from None
        if len(key) < 16:
            raise ValueError(f"webhook secret #{position} is too short: use at least 16 random bytes")
    return found


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per secret, space-separated."""
    if not secrets:
        raise ValueError("no webhook signing secret is configured")
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


def signed_headers(secrets: Sequence[str], msg_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """Every header of a delivery request."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }
