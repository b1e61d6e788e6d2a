"""Webhook settings: signing secrets, the default target, timeouts and the retry schedule."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ValidationInfo, field_validator, model_validator

from shared.config.fields import setting


class WebhookSettings(BaseModel):
    webhook_secrets: str = setting(
        "",
        "Comma-separated Standard Webhooks signing secrets (`whsec_` + base64). Every secret signs "
        "each request, so during a rotation receivers holding the old or the new one both verify. "
        "Generate one with `ocrp webhooks new-secret`. Empty: tasks with a `webhook_url` are refused.",
        "webhooks",
    )
    master_secret: str = setting(
        "",
        "Installation master secret (at least 32 characters, e.g. `openssl rand -base64 32`), "
        "from which the key that encrypts stored per-owner webhook secrets is derived. "
        "Comma-separated to rotate it: the first one seals, every one opens. Empty: owners have "
        "no secrets of their own and every delivery is signed with OCR_WEBHOOK_SECRETS.",
        "webhooks",
    )
    webhook_secret_overlap_s: int = setting(
        86_400,
        "After an owner's webhook secret is rotated, how long its previous secret keeps signing "
        "beside the new one (both signatures are sent), in seconds.",
        "webhooks",
        ge=0,
    )
    webhook_default_url: str = setting(
        "",
        "Where events go when a task or batch names no `webhook_url`. Empty: such events are not sent.",
        "webhooks",
    )
    webhook_timeout_s: float = setting(
        10.0, "Time limit of one delivery attempt (connect, send, response), in seconds.", "webhooks"
    )
    webhook_retry_schedule: str = setting(
        "5,300,1800,7200,18000,36000,50400,72000,86400",
        "Seconds to wait before each retry of a failed delivery (Standard Webhooks schedule: 5 s, "
        "5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), each with +-20 % jitter. A `Retry-After` "
        "answer can only lengthen a wait.",
        "webhooks",
    )
    webhook_max_redirects: int = setting(
        0,
        "Redirects a delivery follows (the same signed POST to the new location, each hop checked "
        "against the private-address rules). 0: a redirect is a failed attempt.",
        "webhooks",
    )
    webhook_presigned_urls: bool = setting(
        True,
        "Add presigned result URLs (valid `OCR_PRESIGN_EXPIRES_S`) to `task.succeeded` events when "
        "storage is S3.",
        "webhooks",
    )
    webhook_sweep_interval_s: float = setting(
        30.0,
        "Period of the webhook sweep (Celery beat), which sends due deliveries whose message was "
        "lost, e.g. with a killed webhook worker.",
        "webhooks",
    )

    @field_validator("webhook_secrets", "webhook_retry_schedule", "master_secret")
    @classmethod
    def _check_webhooks(cls, value: str, info: ValidationInfo) -> str:
        # a malformed secret or schedule must stop the process at start, not fail every delivery
        from shared.webhooks.schedule import parse_schedule
        from shared.webhooks.secret_box import parse_master_secrets
        from shared.webhooks.signing import parse_secrets

        if info.field_name == "webhook_secrets":
            parse_secrets(value)
        elif info.field_name == "master_secret":
            parse_master_secrets(value)
        else:
            parse_schedule(value)
        return value

    @model_validator(mode="after")
    def _check_webhook_default(self) -> Self:
        if self.webhook_default_url and not self.webhook_secrets.strip():
            raise ValueError("OCR_WEBHOOK_DEFAULT_URL needs OCR_WEBHOOK_SECRETS to sign its deliveries")
        return self

    @property
    def webhook_retry_delays(self) -> list[float]:
        from shared.webhooks.schedule import parse_schedule

        return parse_schedule(self.webhook_retry_schedule)
