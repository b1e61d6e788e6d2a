"""The per-GPU plan of `ocrp worker --gpus`: plain data in, plain data out."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrp.gpu_layout import (
    EngineBudget,
    NoGpus,
    child_environment,
    discover_gpus,
    parse_gpus,
    plan_slots,
    prepare_processes_per_engine,
)

BUDGET = EngineBudget(
    gpu_memory_utilization=0.90, prepare_processes=0, metrics_port=9102, cores=16, cache_root=Path("/c")
)


def test_all_means_the_discovered_devices_and_a_list_is_taken_as_given() -> None:
    assert parse_gpus("all", discovered=["0", "1", "2"]) == ["0", "1", "2"]
    assert parse_gpus(" 3, 1 ") == ["3", "1"]
    assert parse_gpus("GPU-abc,GPU-def") == ["GPU-abc", "GPU-def"]


@pytest.mark.parametrize("value", ["", " , ", "0,0"])
def test_an_empty_or_repeating_list_is_refused(value: str) -> None:
    with pytest.raises(NoGpus):
        parse_gpus(value)


def test_all_on_a_machine_without_gpus_is_refused() -> None:
    with pytest.raises(NoGpus):
        parse_gpus("all", discovered=[])


def test_discovery_follows_cuda_visible_devices_when_it_is_set() -> None:
    assert discover_gpus({"CUDA_VISIBLE_DEVICES": "2,5"}) == ["2", "5"]
    assert discover_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []


def test_one_engine_per_gpu_pins_each_child_to_its_device() -> None:
    slots = plan_slots(["0", "1"], 1)
    assert [s.name for s in slots] == ["gpu0", "gpu1"]
    envs = [child_environment(s, len(slots), BUDGET) for s in slots]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1"]
    assert [e["OCR_DEEPSEEK_GPU_MEMORY_UTILIZATION"] for e in envs] == ["0.9000", "0.9000"]
    assert [e["OCR_WORKER_METRICS_PORT"] for e in envs] == ["9102", "9103"]
    assert {e["OCR_DEEPSEEK_ENGINES_PER_GPU"] for e in envs} == {"1"}


def test_two_engines_per_gpu_split_its_memory_and_keep_separate_compile_caches() -> None:
    slots = plan_slots(["0", "1"], 2)
    # the first engine of every GPU comes first: they start together
    assert [s.name for s in slots] == ["gpu0-e0", "gpu1-e0", "gpu0-e1", "gpu1-e1"]
    envs = [child_environment(s, len(slots), BUDGET) for s in slots]
    assert {e["OCR_DEEPSEEK_GPU_MEMORY_UTILIZATION"] for e in envs} == {"0.4500"}
    assert len({e["VLLM_CACHE_ROOT"] for e in envs}) == 4
    assert envs[2]["VLLM_CACHE_ROOT"] == "/c/gpu0-e1"


def test_render_processes_share_the_cores_left_after_engines_and_system() -> None:
    assert prepare_processes_per_engine(16, 1) == 12  # the single-engine default (cores - 4)
    assert prepare_processes_per_engine(16, 2) == 5
    assert prepare_processes_per_engine(128, 8) == 13
    assert prepare_processes_per_engine(4, 4) == 2  # never fewer than two


def test_an_explicit_prepare_process_count_is_kept_and_metrics_can_be_off() -> None:
    budget = EngineBudget(0.9, prepare_processes=7, metrics_port=0, cores=16, cache_root=Path("/c"))
    env = child_environment(plan_slots(["0"], 2)[1], 2, budget)
    assert env["OCR_DEEPSEEK_PREPARE_PROCESSES"] == "7"
    assert "OCR_WORKER_METRICS_PORT" not in env
