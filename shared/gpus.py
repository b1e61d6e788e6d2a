"""The GPUs a worker process can use, read through NVML (`nvidia-ml-py`, imported as `pynvml`).

Only the standard library and pynvml are imported here, so the sampler also runs on a bare GPU
host. On machines without the library, the driver or a GPU, `NvmlSampler.sample()` returns an
empty list and never raises: a heartbeat must not fail because a GPU cannot be read.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from shared.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class GpuState:
    index: int
    name: str
    memory_used_bytes: int
    memory_total_bytes: int
    utilization_percent: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GpuState:
        util = data.get("utilization_percent")
        return cls(
            index=int(data["index"]),
            name=str(data["name"]),
            memory_used_bytes=int(data["memory_used_bytes"]),
            memory_total_bytes=int(data["memory_total_bytes"]),
            utilization_percent=None if util is None else int(util),
        )


def visible_gpus(cuda_visible_devices: str | None, uuids: list[str]) -> list[int]:
    """NVML indices of the GPUs this process may use, following CUDA's reading of
    `CUDA_VISIBLE_DEVICES`: unset means all; entries are indices or (prefixes of) UUIDs; the
    list ends at the first entry that names no device, as CUDA ignores everything after it."""
    if cuda_visible_devices is None:
        return list(range(len(uuids)))
    chosen: list[int] = []
    for raw in cuda_visible_devices.split(","):
        entry = raw.strip()
        index = _resolve(entry, uuids)
        if index is None or index in chosen:
            break
        chosen.append(index)
    return chosen


def _resolve(entry: str, uuids: list[str]) -> int | None:
    if entry.isdigit():
        number = int(entry)
        return number if number < len(uuids) else None
    if entry.startswith("GPU-"):
        matches = [i for i, uuid in enumerate(uuids) if uuid.startswith(entry)]
        return matches[0] if len(matches) == 1 else None
    return None


def _text(value: str | bytes) -> str:
    # nvidia-ml-py returned bytes before 11.5 and str since
    return value.decode() if isinstance(value, bytes) else value


class NvmlSampler:
    """Reads memory and utilisation of this process's GPUs. NVML is initialised once, on the
    first sample; if that fails the sampler stays off for the life of the process."""

    def __init__(self, cuda_visible_devices: str | None) -> None:
        self._visible = cuda_visible_devices
        self._lock = threading.Lock()
        self._nvml: Any = None
        self._handles: list[tuple[int, Any]] | None = None

    def _open(self) -> list[tuple[int, Any]]:
        try:
            import pynvml
        except ImportError:
            return []
        try:
            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            all_handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [_text(pynvml.nvmlDeviceGetUUID(h)) for h in all_handles]
        except Exception as exc:  # pynvml.NVMLError: no driver, no device, no permission
            log.info("worker.gpu.unavailable", reason=str(exc))
            return []
        self._nvml = pynvml
        return [(i, all_handles[i]) for i in visible_gpus(self._visible, uuids)]

    def sample(self) -> list[GpuState]:
        with self._lock:
            if self._handles is None:
                self._handles = self._open()
            states = []
            for index, handle in self._handles:
                try:
                    states.append(self._read(index, handle))
                except Exception as exc:  # a GPU fell off the bus; report the others
                    log.warning("worker.gpu.read_failed", gpu=index, reason=str(exc))
            return states

    def _read(self, index: int, handle: Any) -> GpuState:
        nvml = self._nvml
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        try:
            utilization: int | None = int(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        except nvml.NVMLError:  # not supported on some devices (MIG instances)
            utilization = None
        return GpuState(
            index=index,
            name=_text(nvml.nvmlDeviceGetName(handle)),
            memory_used_bytes=int(memory.used),
            memory_total_bytes=int(memory.total),
            utilization_percent=utilization,
        )

    def close(self) -> None:
        with self._lock:
            if self._nvml is not None:
                try:
                    self._nvml.nvmlShutdown()
                except Exception:  # shutting down anyway
                    log.debug("worker.gpu.shutdown_failed")
                self._nvml = None
            self._handles = None
