"""The API key format: recognisable, high-entropy, checked against a hash only."""

from __future__ import annotations

import re

import pytest

from shared.apikeys.tokens import hash_token, lookup_of, new_token, parse_scopes, token_matches


def test_a_new_key_is_prefixed_random_and_stored_only_as_its_hash() -> None:
    first, second = new_token(), new_token()
    assert re.fullmatch(r"ocrp_[0-9a-z]{12}_[A-Za-z0-9_-]{43}", first.token)
    assert first.token != second.token
    assert first.lookup != second.lookup
    assert first.secret_hash == hash_token(first.token)
    assert first.token not in first.secret_hash
    assert lookup_of(first.token) == first.lookup


def test_only_the_exact_key_matches_its_hash() -> None:
    token = new_token()
    assert token_matches(token.token, token.secret_hash)
    assert not token_matches(token.token[:-1], token.secret_hash)
    assert not token_matches(token.token + "x", token.secret_hash)
    assert not token_matches(new_token().token, token.secret_hash)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ocrp_",
        "ocrp_short",
        "sk_abcdefghjkmn_secret",
        "ocrp_ABCDEFGHJKMN_secret",
        "ocrp_abcdefghjkmn-secret",
        "ocrp_abcdefghjkmn_",
        "ocrp_" + "a" * 300,
    ],
)
def test_malformed_keys_have_no_lookup(bad: str) -> None:
    assert lookup_of(bad) is None


def test_scopes_are_checked_and_normalised() -> None:
    assert parse_scopes("submit, read") == ("read", "submit")
    assert parse_scopes("admin") == ("admin",)
    with pytest.raises(ValueError, match="unknown scope"):
        parse_scopes("read,delete")
    with pytest.raises(ValueError, match="at least one"):
        parse_scopes(" , ")
