"""Where the deployment files live, so that every test names them the same way."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
DOCKERFILES = {"api": ROOT / "Dockerfile.api", "worker": ROOT / "Dockerfile.worker"}
CHART = ROOT / "deploy" / "helm" / "ocrp"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
