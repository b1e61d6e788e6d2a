"""Sealing owners' webhook secrets under the master secret. Pure."""

from __future__ import annotations

import pytest

from shared.webhooks.secret_box import SecretBox, SecretUnreadable, box_of, parse_master_secrets

OLD = "an-old-master-secret-that-is-long-enough-1"
NEW = "a-new-master-secret-that-is-long-enough-22"


def test_a_sealed_secret_opens_with_its_master_and_never_shows_the_plaintext() -> None:
    box = SecretBox([NEW])
    sealed = box.seal("whsec_plaintext")
    assert "whsec_plaintext" not in sealed
    assert box.open(sealed) == "whsec_plaintext"


def test_another_master_cannot_open_it() -> None:
    sealed = SecretBox([OLD]).seal("whsec_x")
    with pytest.raises(SecretUnreadable):
        SecretBox([NEW]).open(sealed)


def test_listing_the_old_master_after_the_new_one_keeps_old_seals_readable() -> None:
    sealed = SecretBox([OLD]).seal("whsec_x")
    rotated = box_of(f"{NEW},{OLD}")
    assert rotated is not None
    assert rotated.open(sealed) == "whsec_x"
    assert SecretBox([NEW]).open(rotated.seal("whsec_y")) == "whsec_y", "the first one seals"


def test_short_master_secrets_are_refused_and_empty_means_none() -> None:
    with pytest.raises(ValueError, match="#2"):
        parse_master_secrets(f"{NEW},short")
    assert box_of("") is None
