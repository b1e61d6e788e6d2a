"""`ocrp keys` as an operator runs it, and the local key `ocrp run` keeps for a laptop."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ocrp.local_key import ensure_local_key, key_path, read_local_key
from server.app import create_app
from shared.apikeys.store import find_live_key, revoke_key
from shared.config import Settings
from shared.db.migrate import upgrade
from shared.db.session import session_scope
from tests.cli.test_commands import ocrp
from tests.fixtures.services import wait_for
from tests.fixtures.webhook_receiver import TEST_SECRET


@pytest.fixture
def database(tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    settings.data_dir.mkdir()
    upgrade(settings.database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env["OCR_DATABASE_URL"] = settings.database_url
    env["OCR_DATA_DIR"] = str(settings.data_dir)
    return settings, env


@pytest.mark.slow
def test_create_list_use_and_revoke_a_key(database: tuple[Settings, dict[str, str]]) -> None:
    settings, env = database
    created = ocrp("keys", "create", "--owner", "alice", "--scope", "read,submit", "--name", "ci", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"ocrp_[0-9a-z]{12}_\S{43}", token), "stdout holds the key alone"
    key_id = re.search(r"created (key_\w+) for owner 'alice', scopes read,submit", created.stderr)
    assert key_id, created.stderr

    listed = ocrp("keys", "list", env=env)
    assert key_id.group(1) in listed.stdout
    assert f"{token[:17]}_…" in listed.stdout
    assert token not in listed.stdout
    assert "active" in listed.stdout

    # the API trusts a verified key for OCR_AUTH_CACHE_S: revocation from the CLI (another
    # process) reaches it within that bound
    fast = settings.model_copy(update={"auth_cache_s": 0.5})
    api = TestClient(create_app(fast), headers={"Authorization": f"Bearer {token}"})
    assert api.get("/v1/tasks").status_code == 200
    revoked = ocrp("keys", "revoke", key_id.group(1), env=env)
    assert revoked.returncode == 0
    assert "revoked" in revoked.stdout
    wait_for(lambda: api.get("/v1/tasks").status_code == 401, 10, "the revocation")
    assert "revoked 20" in ocrp("keys", "list", "--owner", "alice", env=env).stdout
    api.close()


@pytest.mark.slow
def test_key_commands_refuse_bad_input_clearly(
    database: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    _, env = database
    bad_scope = ocrp("keys", "create", "--owner", "a", "--scope", "read,root", env=env)
    assert bad_scope.returncode == 2
    assert "unknown scope(s) root" in bad_scope.stderr
    bad_owner = ocrp("keys", "create", "--owner", "../etc", env=env)
    assert bad_owner.returncode == 1
    assert "an owner is 1-100 characters" in bad_owner.stderr
    assert "no API key 'key_nope'" in ocrp("keys", "revoke", "key_nope", env=env).stderr
    fresh = {**env, "OCR_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    assert "run `ocrp db upgrade` first" in ocrp("keys", "list", env=fresh).stderr


@pytest.mark.slow
def test_a_default_webhook_url_is_checked_when_the_key_is_made(
    database: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = database
    env = {**env, "OCR_WEBHOOK_SECRETS": TEST_SECRET, "OCR_URL_ALLOWLIST": ""}
    for url, code in (("http://127.0.0.1/", "url_not_allowed"), ("ftp://hooks.example/x", "invalid_url")):
        refused = ocrp("keys", "create", "--owner", "alice", "--webhook-url", url, env=env)
        assert refused.returncode == 2, refused.stderr
        assert code in refused.stderr
        assert "every submission with this key would be refused" in refused.stderr
    with session_scope(settings.database_url) as session:  # no key was made
        from shared.apikeys.store import list_keys

        assert list_keys(session, "alice") == []
    allowed = {**env, "OCR_URL_ALLOWLIST": "127.0.0.0/8"}
    made = ocrp("keys", "create", "--owner", "alice", "--webhook-url", "http://127.0.0.1/", env=allowed)
    assert made.returncode == 0, made.stderr


def test_the_local_key_is_made_once_kept_private_and_replaced_when_revoked(
    database: tuple[Settings, dict[str, str]],
) -> None:
    settings, _ = database
    first = ensure_local_key(settings.database_url, settings.data_dir)
    assert stat.S_IMODE(key_path(settings.data_dir).stat().st_mode) == 0o600
    assert read_local_key(settings.data_dir) == first
    assert ensure_local_key(settings.database_url, settings.data_dir) == first  # reused
    with session_scope(settings.database_url) as session:
        key = find_live_key(session, first)
        assert key is not None
        assert key.owner == "default"
        assert key.scope_set == {"submit", "read", "admin"}
        revoke_key(session, key.id)
    second = ensure_local_key(settings.database_url, settings.data_dir)
    assert second != first
    assert read_local_key(settings.data_dir) == second


def test_the_client_falls_back_to_the_local_key(
    database: tuple[Settings, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocrp.sdk import Client

    settings, _ = database
    token = ensure_local_key(settings.database_url, settings.data_dir)
    monkeypatch.delenv("OCR_API_KEY", raising=False)
    monkeypatch.setenv("OCR_DATA_DIR", str(settings.data_dir))
    with Client("http://127.0.0.1:9") as client:
        assert client.http.headers["authorization"] == f"Bearer {token}"
    monkeypatch.setenv("OCR_API_KEY", "ocrp_explicit")
    with Client("http://127.0.0.1:9") as client:
        assert client.http.headers["authorization"] == "Bearer ocrp_explicit"


def test_the_local_key_is_found_from_any_folder(
    database: tuple[Settings, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`ocrp run` copies its key to the user's config folder, so `ocrp submit` run elsewhere
    (another cwd, no OCR_DATA_DIR) still finds it."""
    from ocrp.sdk import Client

    settings, _ = database
    token = ensure_local_key(settings.database_url, settings.data_dir)
    monkeypatch.delenv("OCR_API_KEY", raising=False)
    monkeypatch.delenv("OCR_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with Client("http://127.0.0.1:9") as client:
        assert client.http.headers["authorization"] == f"Bearer {token}"


def test_config_docs_prints_and_writes_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ocrp.main import cli

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    printed = runner.invoke(cli, ["config", "docs"])
    assert printed.exit_code == 0
    assert printed.output.startswith("# Configuration")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder
    refused = runner.invoke(cli, ["config", "docs", "--write", "."])
    assert refused.exit_code == 1
    assert "not an ocrp checkout" in refused.output
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    wrote = runner.invoke(cli, ["config", "docs", "--write", "."])
    assert wrote.exit_code == 0
    assert (tmp_path / "docs" / "configuration.md").read_text().startswith("# Configuration")
    assert (tmp_path / ".env.example").exists()
