"""The images install ocrp as a wheel (not editable), so `ocrp db upgrade`, the templates and the
schemas only work in a container when the wheel carries them. Build it and compare with the
source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.paths import ROOT

pytestmark = pytest.mark.slow

PACKAGES = ("ocrp", "server", "shared", "worker", "migrations")


def source_files() -> set[str]:
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.add(path.relative_to(ROOT).as_posix())
    return files


def test_the_wheel_carries_every_package_file(tmp_path: Path) -> None:
    # build from a copy, so that setuptools' build/ and egg-info never land in the checkout
    source = tmp_path / "src"
    for relative in {"pyproject.toml", "README.md"} | source_files():
        if (ROOT / relative).exists():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / relative, source / relative)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [wheel] = (tmp_path / "dist").glob("ocrp-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - packaged)
    assert missing == [], f"files the images would lack (add them to package-data): {missing}"
    assert any(name.startswith("migrations/versions/0001") for name in packaged)
