"""Per-owner webhook signing secrets.

Signing needs the plaintext, so a secret cannot be stored as a hash: it is kept sealed (Fernet,
under a key derived from OCR_MASTER_SECRET) and opened only to sign a delivery. An owner has one
current secret (`expires_at` empty) and, during a rotation, older ones that keep signing until
their `expires_at`, so that receivers can move to the new secret without dropping a delivery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.db.base import Base, UTCDateTime
from shared.ids import new_id


class WebhookSecret(Base):
    __tablename__ = "webhook_secrets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("whs"))
    owner: Mapped[str] = mapped_column(String(100), index=True)
    sealed: Mapped[str] = mapped_column(Text)  # a Fernet token; never the plaintext
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # empty: the current secret; set: a rotated-out secret that signs until then
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
