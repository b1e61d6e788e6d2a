"""deploy/prometheus and deploy/grafana: valid for Prometheus (promtool checks the config and the
rules, and runs the alert unit tests in alerts.test.yml), and every metric they name is one the
platform really exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

import shared.metrics.pipeline
import shared.metrics.webhooks  # noqa: F401  (registers the worker-side metrics)
from server.app import create_app
from shared.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"
PROMTOOL = shutil.which("promtool")
METRIC = re.compile(r"\b(ocrp_[a-z0-9_]+|up)\b")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}


def _names(families: Any) -> set[str]:
    names = set()
    for family in families:
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


@pytest.fixture(scope="module")
def exposed_metrics(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every metric name the API's /metrics and a worker's metrics port expose."""
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("metrics"))  # type: ignore[call-arg]
    from shared.db.migrate import upgrade

    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        api = _names(text_string_to_metric_families(client.get("/metrics").text))
    return api | _names(REGISTRY.collect()) | {"up"}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _alert_rules() -> list[dict[str, Any]]:
    return [rule for group in _load(PROMETHEUS / "alerts.yml")["groups"] for rule in group["rules"]]


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _dashboard() -> dict[str, Any]:
    return dict(json.loads((GRAFANA / "dashboards" / "ocrp.json").read_text()))


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> None:
    if PROMTOOL is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus; .ci/run does)")
    result = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_the_api_and_the_workers_metrics_ports() -> None:
    config = _load(PROMETHEUS / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["ocrp-api"]
    assert api.get("metrics_path", "/metrics") == "/metrics"
    assert api["static_configs"][0]["targets"] == ["api:8000"]
    [workers] = jobs["ocrp-workers"]["dns_sd_configs"]
    assert workers["port"] == Settings.model_fields["worker_metrics_port"].default == 9102
    assert config["rule_files"] == ["alerts.yml"]


def test_prometheus_config_and_rules_pass_promtool() -> None:
    _promtool("check", "config", "prometheus.yml")
    _promtool("check", "rules", "alerts.yml")


def test_alert_rules_fire_when_they_should_and_only_then() -> None:
    _promtool("test", "rules", "alerts.test.yml")


def test_the_required_alerts_exist_and_name_only_real_metrics(exposed_metrics: set[str]) -> None:
    rules = {rule["alert"]: rule for rule in _alert_rules()}
    assert {"OcrpQueueStalled", "OcrpNoGpuWorker", "OcrpHighTaskFailureRate"} <= set(rules)
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"], name
        unknown = set(METRIC.findall(rule["expr"])) - exposed_metrics
        assert not unknown, f"{name} uses metrics nothing exposes: {unknown}"


def test_the_grafana_dashboard_uses_the_provisioned_datasource_and_real_metrics(
    exposed_metrics: set[str],
) -> None:
    datasource = _load(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    provider = _load(GRAFANA / "provisioning" / "dashboards" / "ocrp.yml")["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"

    dashboard = _dashboard()
    assert dashboard["uid"] == "ocrp-overview"
    panels = [p for p in _panels(dashboard) if p["type"] != "row"]
    assert len({p["id"] for p in _panels(dashboard)}) == len(list(_panels(dashboard)))
    expressions = []
    for panel in panels:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            unknown = set(METRIC.findall(target["expr"])) - exposed_metrics
            assert not unknown, f"panel {panel['title']!r} uses metrics nothing exposes: {unknown}"
            expressions.append(target["expr"])
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    for required in (
        "ocrp_queue_depth",
        "ocrp_worker_gpu_memory_used_bytes",
        "ocrp_page_duration_seconds_bucket",
    ):
        assert required in used


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    # promtool has no expression checker: wrap every query in a recording rule and check those
    queries = [t["expr"] for p in _panels(_dashboard()) for t in p.get("targets", [])]
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"dashboard:q{i}", "expr": q} for i, q in enumerate(queries)],
            }
        ]
    }
    (tmp_path / "dashboard-rules.yml").write_text(yaml.safe_dump(rules))
    _promtool("check", "rules", "dashboard-rules.yml", cwd=tmp_path)
