"""The type checker and the linter over the code, so that CI (which runs only the tests) keeps
`shared/`, `server/` and `worker/` as clean as `make lint` does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fixtures.stack import REPO

pytestmark = pytest.mark.slow


def test_mypy_is_clean_on_shared_server_and_worker() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "shared", "server", "worker"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:]
