"""Sealing per-owner webhook secrets for storage. Pure (no I/O).

Signing needs a secret's plaintext, so it is encrypted rather than hashed: Fernet (AES-128-CBC
with HMAC-SHA256), under a key derived with HKDF-SHA256 from the installation's master secret.
Several master secrets may be listed to rotate the master itself: the first seals, all open.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_MASTER_CHARS = 32
# binds derived keys to this use: the same master secret may later derive other keys
_PURPOSE = b"ocrp webhook signing secrets v1"


class SecretUnreadable(Exception):
    """A sealed secret that none of the master secrets opens (changed or lost master secret)."""


def parse_master_secrets(spec: str) -> list[str]:
    """`a,b` -> the master secrets, each long enough; raises ValueError naming the culprit."""
    found = [item.strip() for item in spec.split(",") if item.strip()]
    for position, secret in enumerate(found, start=1):
        if len(secret) < MIN_MASTER_CHARS:
            raise ValueError(
                f"master secret #{position} is shorter than {MIN_MASTER_CHARS} characters; "
                "make one with `openssl rand -base64 32`"
            )
    return found


def _fernet(master: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(master.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class SecretBox:
    def __init__(self, master_secrets: list[str]) -> None:
        if not master_secrets:
            raise ValueError("a SecretBox needs at least one master secret")
        self._fernet = MultiFernet([_fernet(master) for master in master_secrets])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured master secret opens this webhook secret") from None


def box_of(master_spec: str) -> SecretBox | None:
    """The box of an `OCR_MASTER_SECRET` value, or None when it is empty."""
    masters = parse_master_secrets(master_spec)
    return SecretBox(masters) if masters else None
