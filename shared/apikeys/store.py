"""Stored API keys: create, list, revoke, and find the live key a token belongs to.

Functions flush; the caller (a CLI command, a request) owns the transaction."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.apikeys.tokens import lookup_of, new_token, token_matches
from shared.clock import utcnow
from shared.db.models import ApiKey
from shared.errors import InvalidRequest, NotFound
from shared.ids import new_id
from shared.urls import refuse_control_characters

_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def validate_owner(owner: str) -> str:
    if not _OWNER.match(owner):
        raise InvalidRequest(
            "an owner is 1-100 characters of letters, digits and . _ @ -, starting with a letter or digit",
            "invalid_owner",
        )
    return owner


def _validate_webhook(url: str | None) -> str | None:
    if not url:
        return None
    refuse_control_characters(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("the webhook URL must be an http(s) URL with a host", "invalid_url")
    return url


def create_key(
    session: Session,
    owner: str,
    scopes: tuple[str, ...],
    name: str | None = None,
    webhook_url: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its token. The token is returned once and never stored."""
    token = new_token()
    key = ApiKey(
        id=new_id("key"),
        owner=validate_owner(owner),
        name=name,
        scopes=",".join(scopes),
        lookup=token.lookup,
        secret_hash=token.secret_hash,
        webhook_url=_validate_webhook(webhook_url),
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return key, token.token


def list_keys(session: Session, owner: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if owner is not None:
        query = query.where(ApiKey.owner == owner)
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key {key_id!r}", "key_not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def find_live_key(session: Session, token: str) -> ApiKey | None:
    """The unrevoked key `token` belongs to, or None. The secret is compared in constant time."""
    lookup = lookup_of(token)
    if lookup is None:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.lookup == lookup))
    if key is None or not token_matches(token, key.secret_hash) or key.revoked_at is not None:
        return None
    return key


def touch_due(key: ApiKey, now: datetime, interval_s: float) -> bool:
    """Whether `last_used_at` is old enough to be worth a write."""
    return key.last_used_at is None or now - key.last_used_at >= timedelta(seconds=interval_s)


def touch(session: Session, key_id: str, now: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
