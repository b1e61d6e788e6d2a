"""`Idempotency-Key` for the routes that create work.

A client that retries a POST (a timeout, a dropped connection) with the same key gets the
resource the first request created, with the first answer's status code, instead of a
duplicate. The same key with a different request is refused (422 `idempotency_key_reused`).
Keys are per owner and remembered for OCR_IDEMPOTENCY_TTL_S.

A route uses it in four steps (see `server/tasks/endpoints.py`):

    fp = fingerprint("tasks.create", {...what makes the request this request...})
    if replay := find(session, caller.owner, key, fp): return <the resource replay.resource_id>
    ... create the resource, then remember(session, ..., resource_id, 202) before the commit ...
    on IntegrityError at the commit: a concurrent twin won; roll back, find() again, replay it

The record is written in the same transaction as the resource, so there is never a key without
its resource or the other way round.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header
from sqlalchemy import delete
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db.models import IdempotencyRecord
from shared.errors import InvalidRequest, Unprocessable

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    resource_id: str
    status_code: int


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Any unique string (a UUID) of at most 255 printable ASCII characters. "
            "Retrying with the same key returns the first request's resource instead of creating "
            "another.",
        ),
    ] = None,
) -> str | None:
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise InvalidRequest(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters", "invalid_idempotency_key"
        )
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def fingerprint(route: str, content: Mapping[str, Any]) -> str:
    canonical = json.dumps({"route": route, **content}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find(session: Session, owner: str, key: str, fp: str, now: datetime | None = None) -> Replay | None:
    record = session.get(IdempotencyRecord, (owner, key))
    if record is None:
        return None
    if record.expires_at <= (now or utcnow()):
        session.delete(record)
        session.flush()
        return None
    if record.fingerprint != fp:
        raise Unprocessable(
            f"the {HEADER} {key!r} was already used for a different request; use a new key for new work",
            "idempotency_key_reused",
        )
    return Replay(record.resource_id, record.status_code)


def remember(
    session: Session, owner: str, key: str, fp: str, resource_id: str, status_code: int, ttl_s: int
) -> None:
    now = utcnow()
    session.add(
        IdempotencyRecord(
            owner=owner,
            key=key,
            fingerprint=fp,
            resource_id=resource_id,
            status_code=status_code,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )


def forget_resource(session: Session, owner: str, resource_id: str) -> None:
    """Drop the keys that point at a deleted resource: a retry then creates it anew."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.resource_id == resource_id
        )
    )


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
