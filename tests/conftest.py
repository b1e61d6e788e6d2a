from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.stack",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.proxy",
]

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA
