"""Each owner's own webhook signing secrets: issue (first one, or a rotation), list, and the
secrets that sign a delivery. Functions flush; the caller owns the transaction.

Which secrets sign an owner's delivery:
    the owner has live secrets  -> those (newest first; two during a rotation's overlap)
    the owner has none          -> the installation's OCR_WEBHOOK_SECRETS (the fallback)
so a receiver holding one owner's secret never accepts events signed for another owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db.models import WebhookSecret
from shared.errors import Conflict
from shared.webhooks.secret_box import SecretBox, box_of
from shared.webhooks.signing import new_secret, parse_secrets

# rotated-out secrets are kept (sealed) this long after they stop signing, then deleted
EXPIRED_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class IssuedSecret:
    """A new secret, with its plaintext: shown to its owner this once."""

    id: str
    owner: str
    secret: str
    created_at: datetime
    previous_expires_at: datetime | None  # when the secrets it replaces stop signing


def _live(owner: str, now: datetime) -> Select[WebhookSecret]:
    return (
        select(WebhookSecret)
        .where(WebhookSecret.owner == owner)
        .where(or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now))
        .order_by(WebhookSecret.created_at.desc(), WebhookSecret.id.desc())
    )


def live_secrets(session: Session, owner: str, now: datetime) -> list[WebhookSecret]:
    """The owner's secrets that sign now, newest (the current one) first."""
    return list(session.scalars(_live(owner, now)))


def require_box(settings: Settings) -> SecretBox:
    box = box_of(settings.master_secret)
    if box is None:
        raise Conflict(
            "this installation keeps no per-owner webhook secrets: the operator sets "
            "OCR_MASTER_SECRET first (see docs/security.md)",
            "owner_secrets_not_configured",
        )
    return box


def issue_secret(
    session: Session, box: SecretBox, owner: str, now: datetime, overlap_s: float
) -> IssuedSecret:
    """A new current secret for `owner`; the previous ones keep signing for `overlap_s` more."""
    retire_at = now + timedelta(seconds=overlap_s)
    previous: datetime | None = None
    for row in live_secrets(session, owner, now):
        # an overlap never lengthens an earlier one
        row.expires_at = min(row.expires_at or retire_at, retire_at)
        previous = max(previous or row.expires_at, row.expires_at)
    session.execute(
        delete(WebhookSecret).where(
            WebhookSecret.owner == owner, WebhookSecret.expires_at < now - EXPIRED_KEPT
        )
    )
    plaintext = new_secret()
    row = WebhookSecret(owner=owner, sealed=box.seal(plaintext), created_at=now)
    session.add(row)
    session.flush()
    return IssuedSecret(row.id, owner, plaintext, now, previous)


def ensure_secret(session: Session, box: SecretBox, owner: str, now: datetime) -> IssuedSecret | None:
    """The owner's first secret when it has none yet (e.g. with its first key), else None."""
    if live_secrets(session, owner, now):
        return None
    return issue_secret(session, box, owner, now, 0)


def has_own_secret(session: Session, owner: str, now: datetime) -> bool:
    return session.scalar(_live(owner, now).limit(1)) is not None


def signing_secrets(session: Session, settings: Settings, owner: str, now: datetime) -> list[str]:
    """The secrets that sign `owner`'s deliveries now; empty when nothing can sign them."""
    rows = live_secrets(session, owner, now)
    if not rows:
        return parse_secrets(settings.webhook_secrets)
    # without the master secret an owner's deliveries stay unsigned (and are not sent) rather
    # than falling back to the installation secret other owners may know
    box = box_of(settings.master_secret)
    return [box.open(row.sealed) for row in rows] if box is not None else []
