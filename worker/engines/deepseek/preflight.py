"""Checks that run before a DeepSeek worker starts, so it refuses clearly instead of failing
deep inside vLLM: the model directory and the GPU must be there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click

from shared.config import get_settings


def check_deepseek() -> None:
    settings = get_settings()
    model = getattr(settings, "deepseek_model_path", None)
    if not model:
        raise click.ClickException(
            "OCR_DEEPSEEK_MODEL_PATH is not set: point it at a DeepSeek-OCR model directory"
        )
    path = Path(model)
    if not (path / "config.json").is_file():
        raise click.ClickException(
            f"no DeepSeek-OCR model at {path} (config.json missing); mount the model directory there"
        )
    if not _gpu_present():
        raise click.ClickException("no CUDA GPU is visible to this process (nvidia-smi found none)")
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(f"vLLM is not installed: pip install 'ocrp[gpu]' ({exc})") from exc


def _gpu_present() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout
