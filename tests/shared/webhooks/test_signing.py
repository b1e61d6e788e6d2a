"""Signatures are Standard Webhooks: the reference `standardwebhooks` verifier accepts them, with
every configured secret during a rotation, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook, WebhookVerificationError

from shared.clock import utcnow
from shared.config import Settings
from shared.webhooks.signing import new_secret, parse_secrets, signed_headers
from tests.fixtures.webhook_receiver import OLD_SECRET, TEST_SECRET

BODY = '{"type":"task.succeeded","timestamp":"2026-11-22T10:00:00.000Z","data":{"id":"tsk_1"}}'


def test_a_signed_request_verifies_with_standardwebhooks() -> None:
    headers = signed_headers([TEST_SECRET], "msg_1", utcnow(), BODY)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(TEST_SECRET).verify(BODY, headers)["data"]["id"] == "tsk_1"


def test_every_secret_of_a_rotation_signs_and_verifies() -> None:
    headers = signed_headers([TEST_SECRET, OLD_SECRET], "msg_2", utcnow(), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(TEST_SECRET).verify(BODY, headers)
    Webhook(OLD_SECRET).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_changed_body_id_or_stale_timestamp_fails_verification() -> None:
    now = utcnow()
    headers = signed_headers([TEST_SECRET], "msg_3", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(TEST_SECRET).verify(BODY.replace("tsk_1", "tsk_2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(TEST_SECRET).verify(BODY, {**headers, "webhook-id": "msg_4"})
    old = signed_headers([TEST_SECRET], "msg_3", now - timedelta(minutes=10), BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(TEST_SECRET).verify(BODY, old)


def test_new_secrets_are_valid_and_distinct() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert parse_secrets(f"{first}, {second}") == [first, second]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with 'whsec_'"),
        (f"{TEST_SECRET},whsec_***", "#2 is not valid base64"),
        ("whsec_c2hvcnQ=", "too short"),
    ],
)
def test_malformed_secrets_are_refused_when_settings_load(spec: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, webhook_secrets=spec)  # type: ignore[call-arg]


def test_a_default_url_without_a_secret_is_refused_when_settings_load() -> None:
    with pytest.raises(ValidationError, match="needs OCR_WEBHOOK_SECRETS"):
        Settings(_env_file=None, webhook_default_url="https://hooks.example.com/ocr")  # type: ignore[call-arg]
