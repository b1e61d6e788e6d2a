"""What the GPU engine reports about its device, read through NVML: the worker process must not
initialise CUDA itself (vLLM would then have to spawn, not fork, its engine core)."""

from __future__ import annotations

from typing import Any


def gpu_names() -> list[str] | None:
    """Every GPU's name, as NVML sees them; None without NVML (no driver, no permission)."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        try:
            count = pynvml.nvmlDeviceGetCount()
            return [
                _text(pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i))) for i in range(count)
            ]
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        return None


def gpu_name() -> str | None:
    names = gpu_names()
    if not names:
        return None
    return names[0] if len(set(names)) == 1 and len(names) == 1 else f"{len(names)} x {names[0]}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
