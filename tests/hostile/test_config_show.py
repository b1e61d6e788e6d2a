"""`ocrp config show`, run as a process: no password of any URL with credentials is printed."""

from __future__ import annotations

import os
import subprocess
import sys

from shared.config.masking import mask_url_passwords, shown_value
from tests.fixtures.stack import REPO


def test_config_show_masks_passwords_inside_every_url(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env.update(
        OCR_DATABASE_URL="postgresql+psycopg://ocr:db-pass-1@db.internal:5432/ocr",
        OCR_BROKER_URL="redis://:broker-pass-2@redis.internal:6379/0",
        OCR_DATA_DIR=str(tmp_path),
    )
    shown = subprocess.run(
        [sys.executable, "-m", "ocrp.main", "config", "show"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for password in ("db-pass-1", "broker-pass-2"):
        assert password not in shown
    assert "OCR_DATABASE_URL=postgresql+psycopg://ocr:***@db.internal:5432/ocr" in shown
    assert "OCR_BROKER_URL=redis://:***@redis.internal:6379/0" in shown


def test_a_password_holding_at_signs_is_masked_whole() -> None:
    assert mask_url_passwords("postgresql://u:p@ss@w0rd@h/db") == "postgresql://u:***@h/db"


def test_urls_without_a_password_are_shown_as_they_are() -> None:
    for url in ("http://127.0.0.1:8080/hooks", "https://user@example.com/x", "sqlite:///var/ocr.db"):
        assert shown_value("public_url", url) == url


def test_settings_named_like_secrets_are_masked_whatever_their_value() -> None:
    assert shown_value("s3_secret_access_key", "abc") == "***"
    assert shown_value("webhook_secrets", "") == ""
