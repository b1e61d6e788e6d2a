"""Render and lint the Helm chart with Helm's own Go SDK (the helm-python-sdk wheel bundles
libhelm_c, Helm v4), offline: no cluster, no helm binary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

from tests.deploy.paths import CHART

GPU_VALUES = CHART / "values-gpu.yaml"


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge as `helm -f a.yaml -f b.yaml` does: maps merge, everything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_values(*files: Path, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in files:
        values = merge(values, yaml.safe_load(path.read_text()) or {})
    return merge(values, overrides)


def render(values: dict[str, Any] | None = None, release: str = "ocrp") -> dict[str, str]:
    """Template path -> rendered text, as `helm template` would print them."""
    with helm.Chart.load(str(CHART)) as chart:
        return dict(chart.render(values or {}, name=release, namespace="ocr", is_install=True))


def manifests(values: dict[str, Any] | None = None, release: str = "ocrp") -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path, text in sorted(render(values, release).items()):
        if path.endswith(".txt"):
            continue
        docs += [doc for doc in yaml.safe_load_all(text) if doc]
    return docs


def lint(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(helm.lint(str(CHART), values or {}, strict=True, kube_version="v1.30.0"))


def find(docs: list[dict[str, Any]], kind: str, name_suffix: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"expected one {kind} named *{name_suffix}, found {len(found)}"
    return found[0]


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Object name -> pod spec, for every workload."""
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    }
