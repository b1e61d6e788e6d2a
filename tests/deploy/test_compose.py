"""docker-compose.yml, checked by Compose v2 itself (`docker compose config`) for the default GPU
profile and the CPU profile, then read for what the stack must guarantee: start order, one-shot
migrations, persistence, the GPU reservation, exactly one beat."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.commands import parse_ocrp
from tests.deploy.compose_cli import compose_config, run_compose
from tests.deploy.paths import COMPOSE_FILE, OPERATIONS_DOC

PROFILES = ["gpu", "cpu"]
OCRP_LONG_RUNNING = {"api", "worker-gpu", "worker-cpu", "worker-service"}


@pytest.fixture(scope="module", params=PROFILES)
def stack(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    profile = request.param
    # compose.env.example sets COMPOSE_PROFILES=gpu; --profile cpu must replace it, not add to it
    return profile, compose_config(None if profile == "gpu" else profile)["services"]


@pytest.mark.parametrize("profile", PROFILES)
def test_compose_config_is_valid(profile: str) -> None:
    args = [] if profile == "gpu" else ["--profile", profile]
    result = run_compose(*args, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_compose_refuses_to_start_without_the_secrets_from_env() -> None:
    result = run_compose("config", "-q", env_file=None)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "MINIO_ROOT" in result.stderr


def test_each_profile_runs_its_own_ocr_worker(stack: tuple[str, dict[str, Any]]) -> None:
    profile, services = stack
    other = {"gpu": "cpu", "cpu": "gpu"}[profile]
    assert f"worker-{profile}" in services
    assert f"worker-{other}" not in services
    expected = {"postgres", "redis", "minio", "minio-init", "migrate", "api", "worker-service"}
    assert expected | {"prometheus", "grafana"} <= set(services)


def test_dependencies_wait_for_health_or_completion(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    for name, service in services.items():
        for target, dependency in service.get("depends_on", {}).items():
            condition = dependency["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has none"
            elif condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} is not a one-shot"
            else:
                pytest.fail(f"{name} depends on {target} with a bare {condition}")


def test_migrations_run_once_before_everything_that_uses_the_database(
    stack: tuple[str, dict[str, Any]],
) -> None:
    _, services = stack
    migrate = services["migrate"]
    assert parse_ocrp(migrate["command"]) == ["db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in OCRP_LONG_RUNNING & set(services):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["minio-init"]["condition"] == "service_completed_successfully", name
        assert needs["redis"]["condition"] == "service_healthy", name
        assert "healthcheck" in services[name], f"{name} has no healthcheck"


def test_every_ocrp_container_gets_the_production_settings(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    for name in (OCRP_LONG_RUNNING | {"migrate"}) & set(services):
        env = services[name]["environment"]
        assert env["OCR_DATABASE_URL"].startswith("postgresql+psycopg://ocrp:"), name
        assert env["OCR_DATABASE_URL"].endswith("@postgres:5432/ocrp"), name
        assert env["OCR_BROKER_URL"] == "redis://redis:6379/0", name
        assert env["OCR_STORAGE_BACKEND"] == "s3", name
        assert env["OCR_S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert env["OCR_S3_ACCESS_KEY_ID"] == services["minio"]["environment"]["MINIO_ROOT_USER"], name


def test_commands_are_ones_the_cli_accepts(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    commands = [service.get("command") or [] for service in services.values()]
    ocrp_commands = [command for command in commands if command[:1] == ["ocrp"]]
    assert len(ocrp_commands) >= 4
    for command in ocrp_commands:
        parse_ocrp(command)


def test_exactly_one_beat_runs(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    beats = [
        name
        for name, service in services.items()
        if (service.get("command") or [])[:2] == ["ocrp", "beat"]
        or "--beat" in (service.get("command") or [])
    ]
    assert beats == ["worker-service"]
    command = services["worker-service"]["command"]
    assert command[command.index("-Q") + 1] == "webhooks,maintenance"


def test_redis_persists_with_aof_and_never_evicts(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(v["type"] == "volume" and v["target"] == "/data" for v in redis["volumes"])
    postgres = services["postgres"]
    assert any(v["target"] == "/var/lib/postgresql/data" for v in postgres["volumes"])


def test_minio_bucket_is_created_by_a_one_shot(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    init = services["minio-init"]
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    script = " ".join(init["command"])
    assert "mc mb --ignore-existing" in script


def test_gpu_worker_reserves_a_gpu_and_mounts_the_model_read_only() -> None:
    services = compose_config()["services"]
    worker = services["worker-gpu"]
    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert device["capabilities"] == ["gpu"]
    assert len(device["device_ids"]) == 1  # one worker per GPU
    model_path = worker["environment"]["OCR_DEEPSEEK_MODEL_PATH"]
    [model] = [v for v in worker["volumes"] if v["target"] == model_path]
    assert model["type"] == "bind"
    assert model["read_only"] is True
    assert int(worker["shm_size"]) >= 1 << 30
    command = worker["command"]
    assert command[command.index("--engine") + 1] == "deepseek"


def test_cpu_profile_runs_tesseract() -> None:
    command = compose_config("cpu")["services"]["worker-cpu"]["command"]
    assert command[command.index("--engine") + 1] == "tesseract"


def test_monitoring_mounts_the_ops_files(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack

    def mounts(service: str) -> dict[str, str]:
        return {v["target"]: v["source"] for v in services[service]["volumes"] if v["type"] == "bind"}

    prometheus = mounts("prometheus")
    assert prometheus["/etc/prometheus"].endswith("/deploy/prometheus")
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    grafana = mounts("grafana")
    assert grafana["/etc/grafana/provisioning"].endswith("/deploy/grafana/provisioning")
    assert grafana["/var/lib/grafana/dashboards"].endswith("/deploy/grafana/dashboards")


def test_third_party_images_are_pinned_by_digest(stack: tuple[str, dict[str, Any]]) -> None:
    _, services = stack
    for name, service in services.items():
        if "build" in service:  # ours, built from the Dockerfiles
            continue
        image = service["image"]
        assert "@sha256:" in image, f"{name}: {image} is not pinned by digest"


def test_the_second_gpu_example_in_the_operations_guide_gets_only_its_gpu(tmp_path: Path) -> None:
    guide = OPERATIONS_DOC.read_text()
    marker = "# docker-compose.override.yml: a worker on the second GPU\n"
    assert marker in guide
    block = textwrap.dedent(guide.split(marker, 1)[1].split("```", 1)[0])
    override = tmp_path / "docker-compose.override.yml"
    # extends.file is relative to the override; the example sits next to docker-compose.yml
    override.write_text(block.replace("file: docker-compose.yml", f"file: {COMPOSE_FILE}"))
    result = run_compose("config", "--format", "json", overrides=(override,))
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    second = services["worker-gpu-1"]
    [device] = second["deploy"]["resources"]["reservations"]["devices"]
    assert device["device_ids"] == ["1"]
    [first] = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert first["device_ids"] == ["0"]
    assert second["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert second["environment"] == services["worker-gpu"]["environment"]
