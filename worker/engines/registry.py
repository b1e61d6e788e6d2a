"""Pick the engine a worker runs. Imports happen here, lazily, so that choosing the CPU engine
never imports vLLM or torch."""

from __future__ import annotations

from shared.config import EngineName, Settings
from worker.engines.base import Engine, Preparation


def preparation_for(settings: Settings) -> Preparation | None:
    """How the engine `load_engine` would build wants its inputs prepared in the render
    processes, without building it (the worker starts those processes while the engine loads);
    None for engines that take plain page images."""
    from worker.engines.deepseek.config import default_prepare_processes

    if settings.engine == EngineName.deepseek:
        from worker.engines.deepseek.config import DeepSeekConfig
        from worker.engines.deepseek.engine import preparation_of

        return preparation_of(DeepSeekConfig.from_settings(settings))
    if settings.engine == EngineName.standin:
        from worker.engines.standin import standin_preparation

        processes = settings.deepseek_prepare_processes or default_prepare_processes()
        return standin_preparation(processes, settings.deepseek_mode)
    return None


def load_engine(settings: Settings) -> Engine:
    if settings.engine == EngineName.deepseek:
        from worker.engines.deepseek.engine import DeepSeekEngine

        return DeepSeekEngine.from_settings(settings)
    if settings.engine == EngineName.replay:
        from worker.engines.replay import ReplayEngine, replay_problem

        problem = replay_problem(settings.replay_dir)
        if problem is not None or settings.replay_dir is None:
            raise ValueError(problem)
        return ReplayEngine(settings.replay_dir)
    if settings.engine == EngineName.standin:
        from worker.engines.deepseek.config import default_prepare_processes
        from worker.engines.standin import StandInEngine

        return StandInEngine(
            settings.deepseek_prepare_processes or default_prepare_processes(),
            tokens=settings.deepseek_max_tokens,
            stream_interval=settings.deepseek_stream_interval,
            mode=settings.deepseek_mode,
        )
    from worker.engines.tesseract import TesseractEngine

    return TesseractEngine(lang=settings.tesseract_lang, instances=settings.worker_concurrency)
