"""Bodies of the per-owner webhook secret routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.db.models import WebhookSecret
from shared.webhooks.owner_secrets import IssuedSecret

MAX_OVERLAP_S = 30 * 86_400


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_s: int | None = Field(
        None,
        ge=0,
        le=MAX_OVERLAP_S,
        description="How long the previous secret keeps signing beside the new one, in seconds "
        "(default OCR_WEBHOOK_SECRET_OVERLAP_S). 0: it stops at once.",
    )


class IssuedSecretResource(BaseModel):
    id: str
    secret: str = Field(description="The new `whsec_` secret: shown this once, store it now.")
    created_at: datetime
    previous_expires_at: datetime | None = Field(
        description="Until when the previous secret still signs (both signatures are sent); "
        "null when there was none."
    )

    @classmethod
    def of(cls, issued: IssuedSecret) -> IssuedSecretResource:
        return cls(
            id=issued.id,
            secret=issued.secret,
            created_at=issued.created_at,
            previous_expires_at=issued.previous_expires_at,
        )


class SecretResource(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime | None = Field(description="null for the current secret.")

    @classmethod
    def of(cls, row: WebhookSecret) -> SecretResource:
        return cls(id=row.id, created_at=row.created_at, expires_at=row.expires_at)


class SecretList(BaseModel):
    data: list[SecretResource] = Field(description="The secrets that sign now, current first.")
    fallback: bool = Field(
        description="true when you have no secret of your own and the installation's shared "
        "secret signs your deliveries."
    )
