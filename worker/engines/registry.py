"""Pick the engine a worker runs. Imports happen here, lazily, so that choosing the CPU engine
never imports vLLM or torch."""

from __future__ import annotations

from shared.config import EngineName, Settings
from worker.engines.base import Engine


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
