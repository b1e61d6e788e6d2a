"""Which engine processes `ocrp worker --gpus` runs, and the environment of each: a pure plan
from the device list and the settings (tested with plain data), plus `discover_gpus`, the one
function here that looks at the machine.

Each engine process is one child `ocrp worker` pinned to one GPU with CUDA_VISIBLE_DEVICES.
With `OCR_DEEPSEEK_ENGINES_PER_GPU` = N, a GPU gets N children that split its memory share
(`OCR_DEEPSEEK_GPU_MEMORY_UTILIZATION` is the GPU's total) and start one after another.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# cores an engine child keeps for itself: vLLM's engine core (CPU-bound: see docs/gpu-worker.md)
# and the worker process (claims, layout, results, events)
CORES_PER_ENGINE = 2
CORES_FOR_SYSTEM = 2


class NoGpus(Exception):
    """`--gpus all` found no GPU, or the list given names none."""


@dataclass(frozen=True)
class EngineSlot:
    device: str  # the CUDA_VISIBLE_DEVICES value that pins this engine
    engine: int  # which of the device's engines
    ordinal: int  # position among all engines of the host (metrics port offset)
    per_gpu: int

    @property
    def name(self) -> str:
        label = f"gpu{self.device}"
        return label if self.per_gpu == 1 else f"{label}-e{self.engine}"


@dataclass(frozen=True)
class EngineBudget:
    """What the settings give the whole host, to be shared out between engine children."""

    gpu_memory_utilization: float
    prepare_processes: int  # 0: share the host's cores
    metrics_port: int  # 0: off
    cores: int
    cache_root: Path


def parse_gpus(value: str, discovered: list[str] | None = None) -> list[str]:
    """`all` (the discovered devices) or a comma-separated list of indices or UUIDs."""
    if value.strip().lower() == "all":
        devices = discovered if discovered is not None else discover_gpus(os.environ)
    else:
        devices = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not devices:
        raise NoGpus("no GPU to run on: --gpus all found none, or the list was empty")
    if len(set(devices)) != len(devices):
        raise NoGpus(f"a GPU is listed twice in --gpus {value!r}")
    return devices


def plan_slots(devices: list[str], per_gpu: int) -> list[EngineSlot]:
    # engine 0 of every GPU first: they start together, the second engines after them
    pairs = [(device, engine) for engine in range(per_gpu) for device in devices]
    return [EngineSlot(device, engine, n, per_gpu) for n, (device, engine) in enumerate(pairs)]


def prepare_processes_per_engine(cores: int, engines: int) -> int:
    """Render/prepare processes of each engine child: the cores left once every engine has its
    own and the system a couple, shared out (16 cores, 1 engine: 12, as before; 2 engines: 5)."""
    spare = cores - CORES_FOR_SYSTEM - CORES_PER_ENGINE * engines
    return max(2, spare // max(1, engines))


def child_environment(slot: EngineSlot, engines: int, budget: EngineBudget) -> dict[str, str]:
    env = {
        "CUDA_VISIBLE_DEVICES": slot.device,
        "OCR_DEEPSEEK_ENGINES_PER_GPU": "1",  # the child runs its one engine, and no children
        "OCR_DEEPSEEK_GPU_MEMORY_UTILIZATION": f"{budget.gpu_memory_utilization / slot.per_gpu:.4f}",
        # two compiles writing one torch.compile cache at once can corrupt it
        "VLLM_CACHE_ROOT": str(budget.cache_root / slot.name),
    }
    prepare = budget.prepare_processes or prepare_processes_per_engine(budget.cores, engines)
    env["OCR_DEEPSEEK_PREPARE_PROCESSES"] = str(prepare)
    if budget.metrics_port > 0:
        env["OCR_WORKER_METRICS_PORT"] = str(budget.metrics_port + slot.ordinal)
    return env


def default_cache_root(env: Mapping[str, str]) -> Path:
    if root := env.get("VLLM_CACHE_ROOT"):
        return Path(root)
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vllm"


def discover_gpus(env: Mapping[str, str]) -> list[str]:
    """The devices `--gpus all` means: CUDA_VISIBLE_DEVICES when set (so a container or a test
    decides), else every GPU NVML sees, else every line of `nvidia-smi -L`."""
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [entry.strip() for entry in visible.split(",") if entry.strip()]
    count = _nvml_count()
    if count is None:
        count = _nvidia_smi_count()
    return [str(i) for i in range(count)]


def _nvml_count() -> int | None:
    from worker.engines.deepseek.gpu import gpu_names

    names = gpu_names()
    return None if names is None else len(names)


def _nvidia_smi_count() -> int:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    try:
        listing = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=30, check=True)
    except (subprocess.SubprocessError, OSError):
        return 0
    return sum(1 for line in listing.stdout.splitlines() if line.startswith("GPU "))
