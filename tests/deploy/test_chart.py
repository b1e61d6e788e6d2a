"""deploy/helm/ocrp rendered and linted by Helm's own engine, with the default values and with
values-gpu.yaml, then read for what the process model needs."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from tests.deploy.chart import GPU_VALUES, find, lint, load_values, manifests, pod_specs
from tests.deploy.commands import parse_ocrp

VARIANTS = {
    "default": lambda: {},
    "gpu": lambda: load_values(GPU_VALUES),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, manifests(VARIANTS[request.param]())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_chart_lints_clean(variant: str) -> None:
    report = lint(VARIANTS[variant]())
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == [], problems


def containers(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{name}/{c['name']}": c for name, spec in pod_specs(docs).items() for c in spec["containers"]}


def test_every_container_runs_an_ocrp_command_the_cli_accepts(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    for name, container in containers(docs).items():
        assert parse_ocrp(container["command"]), name


def test_exactly_one_beat_with_recreate_strategy(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    beats = [n for n, c in containers(docs).items() if c["command"][:2] == ["ocrp", "beat"]]
    beats += [n for n, c in containers(docs).items() if "--beat" in c["command"]]
    assert len(beats) == 1
    beat = find(docs, "Deployment", "-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}


def test_migrations_job_runs_before_install_and_upgrade_after_its_settings(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    job = find(docs, "Job", "-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert parse_ocrp(container["command"]) == ["db", "upgrade"]
    # the ConfigMap and the Secret the Job loads are hooks too, created before it
    for kind, suffix in (("ConfigMap", "-config"), ("Secret", "-secrets")):
        settings = find(docs, kind, suffix)
        hook = settings["metadata"]["annotations"]
        assert hook["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(hook["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])


def test_every_pod_loads_settings_and_secrets_and_runs_as_non_root(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    config = find(docs, "ConfigMap", "-config")["metadata"]["name"]
    secret = find(docs, "Secret", "-secrets")["metadata"]["name"]
    for name, spec in pod_specs(docs).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            sources = container["envFrom"]
            assert {"configMapRef": {"name": config}} in sources, name
            assert {"secretRef": {"name": secret}} in sources, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_api_has_service_hpa_pdb_and_probes(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    api = find(docs, "Deployment", "-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    [container] = api["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    service = find(docs, "Service", "-api")
    assert service["spec"]["selector"].items() <= labels.items()
    hpa = find(docs, "HorizontalPodAutoscaler", "-api")
    assert hpa["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"]
    assert "replicas" not in api["spec"]  # the HPA owns it
    pdb = find(docs, "PodDisruptionBudget", "-api")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_default_values_run_the_tesseract_and_service_pools_only() -> None:
    docs = manifests({})
    names = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    assert names == {"ocrp-api", "ocrp-beat", "ocrp-worker-cpu", "ocrp-worker-service"}
    cpu = containers(docs)["ocrp-worker-cpu/worker"]["command"]
    assert cpu[cpu.index("--engine") + 1] == "tesseract"
    service = containers(docs)["ocrp-worker-service/worker"]["command"]
    assert "--engine" not in service
    assert service[service.index("--queues") + 1] == "webhooks,maintenance"


def test_gpu_values_run_one_gpu_per_pod_with_the_model_mounted() -> None:
    docs = manifests(load_values(GPU_VALUES))
    names = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    assert "ocrp-worker-gpu" in names
    assert "ocrp-worker-cpu" not in names
    worker = find(docs, "Deployment", "-worker-gpu")
    spec = worker["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["command"][container["command"].index("--engine") + 1] == "deepseek"
    env = {e["name"]: e.get("value") for e in container["env"]}
    model_mount = next(m for m in container["volumeMounts"] if m["name"] == "model")
    assert env["OCR_DEEPSEEK_MODEL_PATH"] == model_mount["mountPath"]
    assert model_mount["readOnly"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["model"]["persistentVolumeClaim"] == {"claimName": "deepseek-ocr-model", "readOnly": True}
    assert volumes["shm"]["emptyDir"]["medium"] == "Memory"
    assert any(m["mountPath"] == "/dev/shm" for m in container["volumeMounts"])
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    # no spare GPU to surge into
    assert worker["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    pdb = find(docs, "PodDisruptionBudget", "-worker-gpu")
    assert pdb["spec"]["maxUnavailable"] == 1


def test_model_can_come_from_a_host_path() -> None:
    values = load_values(
        GPU_VALUES,
        workers={"gpu": {"model": {"source": "hostPath", "hostPath": {"path": "/data/dsocr"}}}},
    )
    spec = find(manifests(values), "Deployment", "-worker-gpu")["spec"]["template"]["spec"]
    model = next(v for v in spec["volumes"] if v["name"] == "model")
    assert model == {"name": "model", "hostPath": {"path": "/data/dsocr", "type": "Directory"}}


def test_an_unknown_or_missing_model_source_is_refused() -> None:
    values = load_values(GPU_VALUES, workers={"gpu": {"model": {"source": "s3"}}})
    with pytest.raises(helm.HelmRenderError, match=r"workers.gpu.model.source must be pvc or hostPath"):
        manifests(values)
    no_model = {"workers": {"big": {"enabled": True, "image": "workerGpu", "gpus": 1}}}
    with pytest.raises(helm.HelmRenderError, match=r"workers.big.model.source must be pvc or hostPath"):
        manifests(no_model)


def test_existing_secret_replaces_the_chart_secret() -> None:
    docs = manifests({"secrets": {"existingSecret": "ocrp-prod"}})
    assert not [d for d in docs if d["kind"] == "Secret"]
    for name, spec in pod_specs(docs).items():
        for container in spec["containers"]:
            assert {"secretRef": {"name": "ocrp-prod"}} in container["envFrom"], name


def test_chart_secret_leaves_out_empty_entries_and_requires_the_database() -> None:
    secret = find(manifests({}), "Secret", "-secrets")
    assert set(secret["stringData"]) == {"OCR_DATABASE_URL", "OCR_BROKER_URL"}
    with pytest.raises(helm.HelmRenderError, match=r"secrets.values.OCR_DATABASE_URL is empty"):
        manifests({"secrets": {"values": {"OCR_DATABASE_URL": ""}}})


def test_config_keys_must_be_setting_names() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"keys are OCR_\* setting names"):
        manifests({"config": {"LOG_LEVEL": "DEBUG"}})


def test_a_new_worker_pool_is_one_values_entry() -> None:
    values = {"workers": {"backfill": {"enabled": True, "queues": "ocr.batch", "replicas": 3}}}
    docs = manifests(values)
    pool = find(docs, "Deployment", "-worker-backfill")
    assert pool["spec"]["replicas"] == 3
    [container] = pool["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[command.index("--queues") + 1] == "ocr.batch"
    assert command[command.index("--name") + 1] == "backfill@%h"
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    assert '--destination "backfill@$(hostname)"' in probe


def test_a_minimal_gpu_pool_gets_the_model_shm_and_cache_defaults() -> None:
    pool = {"enabled": True, "image": "workerGpu", "engine": "deepseek", "gpus": 1}
    pool["model"] = {"source": "hostPath", "hostPath": {"path": "/opt/models/deepseek-ocr"}}
    spec = find(manifests({"workers": {"backfill": pool}}), "Deployment", "-worker-backfill")["spec"]
    [container] = spec["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert env["OCR_DEEPSEEK_MODEL_PATH"] == mounts["model"] == "/models/deepseek-ocr"
    assert mounts["shm"] == "/dev/shm"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert volumes["model"]["hostPath"] == {"path": "/opt/models/deepseek-ocr", "type": "Directory"}
    assert volumes["compile-cache"]["emptyDir"] == {"sizeLimit": "20Gi"}


def test_service_monitor_scrapes_the_api_and_every_worker_pool() -> None:
    docs = manifests({"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kps"}}}})
    monitor = find(docs, "ServiceMonitor", "ocrp")
    assert monitor["metadata"]["labels"]["release"] == "kps"
    selector = monitor["spec"]["selector"]["matchLabels"]
    ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    scraped = [
        d for d in docs if d["kind"] == "Service" and selector.items() <= d["metadata"]["labels"].items()
    ]
    components = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in scraped}
    assert components == {"api", "worker-cpu", "worker-service"}
    for service in scraped:
        assert {p["name"] for p in service["spec"]["ports"]} & ports


def test_ingress_routes_to_the_api_service() -> None:
    docs = manifests({"api": {"ingress": {"enabled": True, "className": "nginx"}}})
    ingress = find(docs, "Ingress", "-api")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "ocrp-api", "port": {"name": "http"}}
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_a_pod_with_several_gpus_runs_one_supervised_engine_per_gpu_and_engine() -> None:
    values = load_values(GPU_VALUES)
    values["workers"]["gpu"].update(gpus=2, enginesPerGpu=2)
    values["metrics"] = {**values.get("metrics", {}), "serviceMonitor": {"enabled": True}}
    docs = manifests(values)
    [container] = find(docs, "Deployment", "-worker-gpu")["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[command.index("--gpus") + 1] == "all"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["OCR_DEEPSEEK_ENGINES_PER_GPU"] == "2"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    # four engine processes: four metrics ports, all scraped
    assert [p["containerPort"] for p in container["ports"]] == [9102, 9103, 9104, 9105]
    monitor = find(docs, "ServiceMonitor", "")
    assert {e["port"] for e in monitor["spec"]["endpoints"]} >= {"metrics", "metrics-1", "metrics-3"}
    # the probe asks every child by its node name
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    for node in ("gpu-gpu0-e0", "gpu-gpu1-e0", "gpu-gpu0-e1", "gpu-gpu1-e1"):
        assert f"{node}@$(hostname)" in probe


def test_the_worker_grace_fits_inside_the_pods() -> None:
    docs = manifests(load_values(GPU_VALUES))
    spec = find(docs, "Deployment", "-worker-gpu")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert float(env["OCR_WORKER_SHUTDOWN_GRACE_S"]) < spec["terminationGracePeriodSeconds"]
    # one engine on one GPU stays a plain worker: no supervisor
    assert "--gpus" not in spec["containers"][0]["command"]
