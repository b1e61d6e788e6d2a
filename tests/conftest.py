from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db.migrate import upgrade
from shared.db.session import get_engine

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.stack",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.proxy",
]

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True, scope="session")
def _private_user_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`ocrp run` copies its local key into the user's config folder: keep the tests' copies
    out of the developer's own ~/.config (and processes the tests start inherit this)."""
    before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    yield
    if before is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = before


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each backend the platform runs on."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ops.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        with get_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    return url
