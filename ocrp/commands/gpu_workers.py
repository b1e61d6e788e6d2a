"""`ocrp worker --gpus`: one child `ocrp worker` per engine slot (GPU x engines per GPU), run
and restarted by `ocrp.supervisor`. The plan comes from `ocrp.gpu_layout`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ocrp.gpu_layout import (
    EngineBudget,
    EngineSlot,
    NoGpus,
    child_environment,
    default_cache_root,
    parse_gpus,
    plan_slots,
)
from ocrp.supervisor import ChildSpec, Supervisor, child_grace_s

if TYPE_CHECKING:
    from shared.config import Settings


def engine_specs(
    settings: Settings, slots: list[EngineSlot], ready_dir: Path, *, beat: bool, name: str | None
) -> list[ChildSpec]:
    budget = EngineBudget(
        gpu_memory_utilization=settings.deepseek_gpu_memory_utilization,
        prepare_processes=settings.deepseek_prepare_processes,
        metrics_port=settings.worker_metrics_port,
        cores=os.cpu_count() or 4,
        cache_root=default_cache_root(os.environ),
    )
    node = name.split("@", 1) if name else [settings.engine.value, "%h"]
    host = node[1] if len(node) > 1 else "%h"
    from worker.app import READY_FILE_VARIABLE

    specs = []
    for slot in slots:
        ready_file = ready_dir / f"{slot.name}.ready"
        argv = [sys.executable, "-m", "ocrp.main", "worker", "--name", f"{node[0]}-{slot.name}@{host}"]
        if beat and slot.ordinal == 0:
            argv.append("--beat")  # one beat per installation: the first child runs it
        env = child_environment(slot, len(slots), budget)
        env[READY_FILE_VARIABLE] = str(ready_file)
        env["OCR_WORKER_SHUTDOWN_GRACE_S"] = str(child_grace_s(settings.worker_shutdown_grace_s))
        # the engine before it on the same GPU must have sized its memory first
        after = f"gpu{slot.device}-e{slot.engine - 1}" if slot.engine > 0 else None
        specs.append(ChildSpec(slot.name, argv, env, True, ready_file, after))
    return specs


def run_per_gpu(settings: Settings, gpus: str, *, beat: bool, name: str | None) -> None:
    try:
        devices = parse_gpus(gpus)
    except NoGpus as exc:
        raise click.ClickException(str(exc)) from exc
    slots = plan_slots(devices, settings.deepseek_engines_per_gpu if settings.engine == "deepseek" else 1)
    with tempfile.TemporaryDirectory(prefix="ocrp-supervisor-") as ready_dir:
        specs = engine_specs(settings, slots, Path(ready_dir), beat=beat, name=name)
        supervisor = Supervisor(specs, settings.worker_shutdown_grace_s, say=click.echo)
        supervisor.install_signal_handlers()
        click.echo(f"ocrp: {len(specs)} engine process(es) on GPU(s) {','.join(devices)}")
        supervisor.run()
