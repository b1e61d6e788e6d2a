"""Per-owner webhook secrets: one owner's secret never signs what another owner's receiver
accepts, a rotation sends both signatures for its overlap, and owners without a secret fall back
to the installation's. Real receivers (the docs' example) on loopback; the API in-process and
the CLI as a process."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.clock import utcnow
from shared.config import Settings
from shared.db.session import session_scope
from shared.storage import make_storage
from shared.webhooks.owner_secrets import issue_secret
from shared.webhooks.secret_box import box_of
from tests.fixtures.services import wait_for
from tests.fixtures.stack import REPO, Stack
from tests.fixtures.webhook_receiver import TEST_SECRET, Receiver, start_receiver
from tests.shared.webhooks.factories import finished_task, webhook_settings
from worker.webhooks.delivery import deliver_once
from worker.webhooks.sender import make_client

MASTER = "a-test-master-secret-of-at-least-32-characters"


@pytest.fixture
def receivers() -> Any:
    started: list[Receiver] = []

    def start(secret: str) -> Receiver:
        receiver = start_receiver(secret)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


def rotate(settings: Settings, owner: str, overlap_s: float = 0) -> str:
    box = box_of(settings.master_secret)
    assert box is not None
    with session_scope(settings.database_url) as session:
        return issue_secret(session, box, owner, utcnow(), overlap_s).secret


def deliver_event(settings: Settings, owner: str, url: str) -> None:
    """One delivery attempt of a new event of `owner`, as the webhook worker makes it."""
    _, pending = finished_task(settings, url, owner=owner)
    # the outbound transport takes the settings (its allowlist) where it checks addresses itself
    client = make_client(settings) if inspect.signature(make_client).parameters else make_client()  # type: ignore[call-arg]
    with client:
        deliver_once(settings, make_storage(settings), client, pending.delivery_ids[0])


def test_one_owners_secret_cannot_sign_what_another_owners_receiver_accepts(
    tmp_path: Path, receivers: Any
) -> None:
    settings = webhook_settings(tmp_path, master_secret=MASTER)
    alice, bob = rotate(settings, "alice"), rotate(settings, "bob")
    bobs_receiver = receivers(bob)

    deliver_event(settings, "alice", bobs_receiver.url)  # alice aims her events at bob
    assert bobs_receiver.rejected == 1
    assert bobs_receiver.handled == []
    deliver_event(settings, "bob", bobs_receiver.url)
    assert len(bobs_receiver.handled) == 1, "bob's own event verifies with bob's secret"

    # neither is signed with the installation secret any more
    shared_receiver = receivers(TEST_SECRET)
    deliver_event(settings, "alice", shared_receiver.url)
    assert shared_receiver.rejected == 1
    assert alice != bob


def test_an_owner_without_a_secret_is_signed_with_the_installation_fallback(
    tmp_path: Path, receivers: Any
) -> None:
    settings = webhook_settings(tmp_path, master_secret=MASTER)
    rotate(settings, "alice")
    shared_receiver = receivers(TEST_SECRET)
    deliver_event(settings, "carol", shared_receiver.url)
    assert len(shared_receiver.handled) == 1
    assert shared_receiver.rejected == 0


def test_a_rotation_sends_both_signatures_until_its_overlap_ends(tmp_path: Path, receivers: Any) -> None:
    settings = webhook_settings(tmp_path, master_secret=MASTER)
    old = rotate(settings, "bob")
    new = rotate(settings, "bob", overlap_s=3600)
    old_receiver, new_receiver = receivers(old), receivers(new)

    deliver_event(settings, "bob", old_receiver.url)
    deliver_event(settings, "bob", new_receiver.url)
    assert len(old_receiver.handled) == 1
    assert len(new_receiver.handled) == 1
    assert len(old_receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    newest = rotate(settings, "bob", overlap_s=0)  # an overlap of 0 ends every older secret now
    deliver_event(settings, "bob", new_receiver.url)
    assert new_receiver.rejected == 1
    newest_receiver = receivers(newest)
    deliver_event(settings, "bob", newest_receiver.url)
    assert len(newest_receiver.handled) == 1
    assert len(newest_receiver.received[0].headers["webhook-signature"].split(" ")) == 1


def test_owners_rotate_their_secret_over_the_api(embedded_stack: Stack, receivers: Any) -> None:
    stack = embedded_stack
    stack.settings.webhook_secrets = ""  # no fallback: only owners with a secret get webhooks
    bob = stack.client(stack.new_key("bob", "submit,read"))
    receiver = receivers(TEST_SECRET)

    refused = bob.post("/v1/webhooks/secrets/rotate", json={})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "owner_secrets_not_configured"
    stack.settings.master_secret = MASTER

    no_secret = bob.post("/v1/tasks", json={"url": "http://127.0.0.1:9/a.pdf", "webhook_url": receiver.url})
    assert no_secret.status_code == 400
    assert no_secret.json()["error"]["code"] == "webhooks_not_configured"
    assert bob.get("/v1/webhooks/secrets").json() == {"data": [], "fallback": True}

    first = bob.post("/v1/webhooks/secrets/rotate", json={})
    assert first.status_code == 201, first.text
    assert first.json()["secret"].startswith("whsec_")
    assert first.json()["previous_expires_at"] is None
    assert first.headers["cache-control"] == "no-store"
    second = bob.post("/v1/webhooks/secrets/rotate", json={"overlap_s": 600})
    assert second.json()["previous_expires_at"] is not None
    listed = bob.get("/v1/webhooks/secrets").json()
    assert [s["id"] for s in listed["data"]] == [second.json()["id"], first.json()["id"]]
    assert listed["fallback"] is False
    assert "secret" not in listed["data"][0], "the plaintext is shown once, never listed"
    assert bob.post("/v1/webhooks/secrets/rotate", json={"overlap_s": -1}).status_code == 422

    accepted = bob.post("/v1/tasks", json={"url": "http://127.0.0.1:9/a.pdf", "webhook_url": receiver.url})
    assert accepted.status_code == 202, accepted.text
    batch = {"urls": ["http://127.0.0.1:9/a.pdf"], "webhook_url": receiver.url}
    assert bob.post("/v1/batches", json=batch).status_code == 202
    # another owner sees none of bob's secrets, and cannot use bob's to sign its own webhooks
    alice = stack.client(stack.new_key("alice", "submit,read"))
    assert alice.get("/v1/webhooks/secrets").json() == {"data": [], "fallback": True}
    refused_batch = alice.post("/v1/batches", json=batch)
    assert refused_batch.status_code == 400
    assert refused_batch.json()["error"]["code"] == "webhooks_not_configured"


def test_operators_rotate_an_owners_secret_with_the_cli(embedded_stack: Stack, receivers: Any) -> None:
    stack = embedded_stack
    stack.settings.master_secret = MASTER
    env = stack.env

    def ocrp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ocrp.main", *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    created = ocrp("webhooks", "rotate-secret", "--owner", "bob")
    assert created.returncode == 0, created.stderr
    first = created.stdout.strip()
    rotated = ocrp("webhooks", "rotate-secret", "--owner", "bob", "--overlap", "600")
    assert rotated.returncode == 0, rotated.stderr
    second = rotated.stdout.strip()
    assert first.startswith("whsec_")
    assert second.startswith("whsec_")
    assert first != second
    assert "previous secret signs too until" in rotated.stderr

    first_receiver, second_receiver = receivers(first), receivers(second)
    deliver_event(stack.settings, "bob", first_receiver.url)
    deliver_event(stack.settings, "bob", second_receiver.url)
    assert len(first_receiver.handled) == 1
    assert len(second_receiver.handled) == 1

    without_master = {k: v for k, v in env.items() if k != "OCR_MASTER_SECRET"}
    env = without_master
    refused = ocrp("webhooks", "rotate-secret", "--owner", "bob")
    assert refused.returncode != 0
    assert "OCR_MASTER_SECRET" in refused.stderr


def test_an_owners_first_key_brings_its_secret_shown_once(embedded_stack: Stack) -> None:
    env = embedded_stack.env | {"OCR_MASTER_SECRET": MASTER}
    run = [sys.executable, "-m", "ocrp.main", "keys", "create", "--owner", "dave"]
    first = subprocess.run(run, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().startswith("ocrp_"), "stdout holds the key alone"
    assert "whsec_" in first.stderr
    second = subprocess.run(run, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "whsec_" not in second.stderr, "the secret is made once"


@pytest.mark.slow
def test_a_real_webhook_worker_signs_each_owners_events_with_its_own_secret(
    embedded_stack: Stack, receivers: Any, data_dir: Path
) -> None:
    stack = embedded_stack
    stack.settings.master_secret = MASTER
    stack.settings.webhook_secrets = TEST_SECRET  # the fallback is there, and must not be used
    stack.settings.webhook_retry_schedule = "0.5"
    bob = stack.client(stack.new_key("bob", "submit,read"))
    mallory = stack.client(stack.new_key("mallory", "submit,read"))
    bobs_secret = bob.post("/v1/webhooks/secrets/rotate", json={}).json()["secret"]
    assert mallory.post("/v1/webhooks/secrets/rotate", json={}).status_code == 201
    bobs_receiver = receivers(bobs_secret)
    stack.start_worker("--queues", "ocr.interactive,webhooks")

    def submit(client: Any) -> str:
        with (data_dir / "olmo-page-1.pdf").open("rb") as handle:
            answer = client.post(
                "/v1/tasks/upload",
                files={"file": ("p.pdf", handle)},
                data={"webhook_url": bobs_receiver.url, "dpi": "72"},
            )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    forged = submit(mallory)  # mallory's event aimed at bob's receiver
    genuine = submit(bob)
    # bob's event verifies; mallory's first try and its one retry are refused
    wait_for(lambda: bool(bobs_receiver.handled) and bobs_receiver.rejected >= 2, 180, "deliveries")
    handled = {event["data"]["id"] for event in bobs_receiver.handled}
    assert handled == {genuine}
    assert forged not in handled
    assert bobs_receiver.rejected >= 2
