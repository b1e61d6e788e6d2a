"""Which GPUs a worker reports, following CUDA_VISIBLE_DEVICES, and what happens without NVML."""

from __future__ import annotations

import importlib.util

import pytest

from shared.gpus import GpuState, NvmlSampler, visible_gpus

UUIDS = ["GPU-aaaa-1111", "GPU-bbbb-2222", "GPU-cccc-3333"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, [0, 1, 2]),
        ("", []),
        ("1", [1]),
        ("2,0", [2, 0]),
        (" 0 , 1 ", [0, 1]),
        ("GPU-bbbb", [1]),
        ("GPU-cccc-3333,0", [2, 0]),
        ("0,7,1", [0]),  # CUDA stops at the first entry that names no device
        ("-1,0", []),
        ("GPU-", []),  # a prefix that matches several devices names none
        ("0,0", [0]),
        ("MIG-xyz", []),
    ],
)
def test_visible_gpus_follow_cuda_visible_devices(value: str | None, expected: list[int]) -> None:
    assert visible_gpus(value, UUIDS) == expected


def test_gpu_state_survives_a_json_round_trip() -> None:
    state = GpuState(0, "NVIDIA H100 80GB HBM3", 12 * 2**30, 80 * 2**30, 37)
    assert GpuState.from_json(state.to_json()) == state
    blind = GpuState(1, "MIG 1g.10gb", 1, 2, None)
    assert GpuState.from_json(blind.to_json()).utilization_percent is None


@pytest.mark.skipif(
    importlib.util.find_spec("pynvml") is not None, reason="this machine has nvidia-ml-py installed"
)
def test_without_nvml_a_worker_reports_no_gpu_and_does_not_fail() -> None:
    sampler = NvmlSampler(None)
    assert sampler.sample() == []
    assert sampler.sample() == []  # stays off, quietly
    sampler.close()
