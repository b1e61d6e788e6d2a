from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db.migrate import upgrade
from shared.db.session import get_engine

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.stack", "tests.fixtures.webhook_receiver"]

DATA = Path(__file__).parent / "data"


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
