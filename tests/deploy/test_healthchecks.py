"""The health commands the images, compose and the chart run, executed for real against a real
API process and a real worker on a Redis broker: they pass while the process serves and fail
when it does not."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.chart import find, manifests
from tests.deploy.compose_cli import compose_config
from tests.deploy.dockerfile import read_dockerfile
from tests.deploy.paths import DOCKERFILES
from tests.fixtures.stack import Stack, build_stack

pytestmark = pytest.mark.slow

VENV_BIN = str(Path(sys.executable).parent)


def run_check(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**env, "PATH": VENV_BIN + os.pathsep + env.get("PATH", os.environ.get("PATH", ""))}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90, check=False)


def compose_test_to_argv(test: list[str]) -> list[str]:
    """Docker runs a compose healthcheck as exec (CMD) or through `sh -c` (CMD-SHELL); `$$` in the
    file stands for a literal `$`."""
    kind, *rest = [part.replace("$$", "$") for part in test]
    return ["sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest


@pytest.fixture
def redis_stack(tmp_path: Path, redis_url: str) -> Iterator[Stack]:
    """SQLite and local storage, with Redis as the broker: worker pings need a real broker."""
    stack = build_stack("deploy", tmp_path, broker_url=redis_url)
    yield stack
    stack.close()


def test_worker_ping_passes_for_a_running_worker_and_fails_for_an_absent_one(redis_stack: Stack) -> None:
    redis_stack.start_worker("-Q", "maintenance", "--name", "service@%h")
    compose_check = compose_test_to_argv(
        compose_config()["services"]["worker-service"]["healthcheck"]["test"]
    )
    chart_probe = find(manifests({}), "Deployment", "-worker-service")["spec"]["template"]["spec"][
        "containers"
    ][0]["readinessProbe"]["exec"]["command"]

    alive = run_check(compose_check, {**redis_stack.env, "OCRP_NODE": "service"})
    assert alive.returncode == 0, alive.stdout + alive.stderr
    assert "pong" in alive.stdout
    probe = run_check(chart_probe, redis_stack.env)
    assert probe.returncode == 0, probe.stdout + probe.stderr

    absent = run_check(compose_check, {**redis_stack.env, "OCRP_NODE": "nobody"})
    assert absent.returncode != 0


def test_api_healthchecks_follow_the_process(embedded_stack: Stack) -> None:
    handle, base_url = embedded_stack.start_api_server()
    port = base_url.rsplit(":", 1)[1]
    image_check = read_dockerfile(DOCKERFILES["api"]).stage("runtime").exec_form("HEALTHCHECK")
    image_check[0] = sys.executable
    compose_check = compose_test_to_argv(compose_config()["services"]["api"]["healthcheck"]["test"])
    compose_check = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in compose_check]
    compose_check[0] = sys.executable
    env = {**embedded_stack.env, "OCR_API_PORT": port}

    for check in (image_check, compose_check):
        result = run_check(check, env)
        assert result.returncode == 0, result.stderr

    handle.stop()
    for check in (image_check, compose_check):
        assert run_check(check, env).returncode != 0
