"""The cache of verified keys, on plain data and a hand-moved clock."""

from __future__ import annotations

from server.auth.caller import Caller
from server.auth.key_cache import VerifiedKeys

ALICE = Caller(owner="alice", key_id="key_a")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_key_is_trusted_until_its_time_is_up() -> None:
    clock = Clock()
    keys = VerifiedKeys(ttl_s=5, clock=clock)
    keys.put("digest-a", ALICE)
    clock.now += 4.9
    assert keys.get("digest-a") == ALICE
    clock.now += 0.1
    assert keys.get("digest-a") is None


def test_verifying_again_restarts_the_time() -> None:
    clock = Clock()
    keys = VerifiedKeys(ttl_s=5, clock=clock)
    keys.put("digest-a", ALICE)
    clock.now += 4
    keys.put("digest-a", ALICE)
    clock.now += 4
    assert keys.get("digest-a") == ALICE


def test_an_unknown_digest_is_a_miss() -> None:
    keys = VerifiedKeys(ttl_s=5)
    keys.put("digest-a", ALICE)
    assert keys.get("digest-b") is None


def test_a_zero_ttl_keeps_nothing() -> None:
    keys = VerifiedKeys(ttl_s=0)
    keys.put("digest-a", ALICE)
    assert keys.get("digest-a") is None
    assert len(keys) == 0


def test_a_full_cache_drops_the_key_verified_longest_ago() -> None:
    clock = Clock()
    keys = VerifiedKeys(ttl_s=60, max_entries=2, clock=clock)
    keys.put("first", ALICE)
    keys.put("second", ALICE)
    keys.put("first", ALICE)  # verified again: now the newest
    keys.put("third", ALICE)
    assert keys.get("second") is None
    assert keys.get("first") == ALICE
    assert keys.get("third") == ALICE


def test_a_forgotten_key_is_verified_again() -> None:
    keys = VerifiedKeys(ttl_s=60)
    keys.put("digest-a", ALICE)
    keys.forget("digest-a")
    assert keys.get("digest-a") is None
