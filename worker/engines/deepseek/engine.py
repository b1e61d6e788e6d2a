"""The GPU engine: DeepSeek-OCR on one vLLM AsyncLLM per worker process.

Celery runs the worker with the threads pool, so many page threads call `recognize` at once.
Each call submits its page to the one AsyncLLM, which runs on an asyncio loop in a background
thread, and blocks until the page is decoded: vLLM batches the pages of every task together.

- Inputs normally arrive prepared by the render processes (`prepare.py`); a page without them
  goes to vLLM as image + prompt and vLLM's frontend prepares it.
- With `on_delta`, the page asks vLLM for token deltas (RequestOutputKind.DELTA) and the
  page's own thread hands them on, so a slow consumer never stalls the engine loop.
- A page that ends without end-of-sequence (a repetition loop or max_tokens) is kept and
  flagged truncated; with a retry rule it is decoded once more with stronger n-gram settings
  and the second result is kept (`RecognizedPage.retried`). The retry is not streamed.
- `cancel(task_id)` cancels that task's requests: vLLM aborts them and the waiting threads
  raise EngineCanceled.
"""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import signal
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.config import Settings
from shared.errors import TransientError
from shared.logs import get_logger
from worker.engines.base import EngineCanceled, EngineInfo, PageRequest, Preparation
from worker.engines.deepseek.config import (
    DeepSeekConfig,
    default_prepare_processes,
    engine_environment,
    engine_kwargs,
    sampling_args,
)
from worker.engines.deepseek.gpu import gpu_name
from worker.engines.deepseek.modes import apply_mode, export_mode, image_tokens
from worker.engines.deepseek.ngram import NGramRule
from worker.engines.deepseek.prepare import InputPreparer
from worker.layout.grounding import recognized_from_raw
from worker.layout.recognized import RecognizedPage

if TYPE_CHECKING:
    from vllm.v1.engine.async_llm import AsyncLLM

log = get_logger(__name__)
# a prompt's text part (`<image>`, the instruction) next to its image tokens, generously
_TEXT_TOKENS = 64
_DONE = object()


@dataclass(frozen=True)
class Decoded:
    text: str
    tokens: int
    eos: bool


class DeepSeekEngine:
    def __init__(self, config: DeepSeekConfig) -> None:
        self.config = config
        self.environment = engine_environment(config)
        os.environ.update(self.environment)
        # this process (frontend) and, through the plugin, vLLM's own processes
        export_mode(config.spec)
        apply_mode(config.spec)
        self.preparation = preparation_of(config)
        self._inflight: dict[str, set[Future[Decoded]]] = defaultdict(set)
        self._lock = threading.Lock()
        self._mode_noted: set[str] = set()
        # requests in vLLM now, and when the first arrived: the log tells how long the
        # pipeline took to fill a whole batch
        self._in_vllm = 0
        self._first_request_at: float | None = None
        self._full_logged = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="deepseek-engine", daemon=True)
        self._thread.start()
        self._llm: AsyncLLM = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        self.info = EngineInfo(
            name="deepseek",
            model=f"DeepSeek-OCR {config.spec.name} ({Path(config.model_path).name})",
            modes=(config.spec.name,),
            gpu=gpu_name(),
            streams_tokens=True,
        )
        log.info("worker.engine.started", mode=config.spec.name, **engine_kwargs_summary(config))

    @classmethod
    def from_settings(cls, settings: Settings) -> DeepSeekEngine:
        return cls(DeepSeekConfig.from_settings(settings))

    async def _start(self) -> AsyncLLM:
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        return AsyncLLM.from_engine_args(AsyncEngineArgs(**engine_kwargs(self.config)))

    # -- pages ---------------------------------------------------------------------------
    def recognize(self, request: PageRequest) -> RecognizedPage:
        if request.cancel.is_set():
            raise EngineCanceled(request.task_id)
        self._note_mode(request)
        prompt, prompt_tokens = self._prompt(request)
        decoded = self._decode(request, prompt, prompt_tokens, self.config.ngram, request.on_delta)
        retried = False
        retry = self.config.retry_ngram
        if not decoded.eos and retry is not None and not self.config.ignore_eos:
            first = decoded
            decoded = self._decode(request, prompt, prompt_tokens, retry, None)
            retried = True
            log.info(
                "task.page.retried",
                task_id=request.task_id,
                page=request.page,
                first_tokens=first.tokens,
                tokens=decoded.tokens,
                eos=decoded.eos,
            )
        width, height = request.image.size
        page = recognized_from_raw(
            decoded.text,
            width,
            height,
            eos=decoded.eos,
            output_tokens=decoded.tokens,
            log=log.bind(task_id=request.task_id, page=request.page),
        )
        page.retried = retried
        return page

    def _prompt(self, request: PageRequest) -> tuple[Any, int]:
        if request.prepared is not None:
            return request.prepared, len(request.prepared["prompt_token_ids"])
        width, height = request.image.size
        prompt = {
            "prompt": request.options.prompt_text(),
            "multi_modal_data": {"image": request.image},
            "mm_processor_kwargs": self.config.spec.processor_kwargs(),
        }
        return prompt, image_tokens(self.config.spec, width, height) + _TEXT_TOKENS

    def _decode(
        self,
        request: PageRequest,
        prompt: Any,
        prompt_tokens: int,
        rule: NGramRule | None,
        on_delta: Any,
    ) -> Decoded:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        params = SamplingParams(
            **sampling_args(self.config, rule, prompt_tokens),
            output_kind=RequestOutputKind.DELTA if on_delta else RequestOutputKind.FINAL_ONLY,
        )
        deltas: queue.SimpleQueue[object] | None = queue.SimpleQueue() if on_delta else None
        request_id = f"{request.task_id}-p{request.page}-{uuid.uuid4().hex[:8]}"
        future = asyncio.run_coroutine_threadsafe(
            self._generate(request_id, prompt, params, deltas), self._loop
        )
        with self._lock:
            self._inflight[request.task_id].add(future)
            self._count_request(+1)
        try:
            if deltas is not None:
                future.add_done_callback(lambda _: deltas.put(_DONE))
                for item in iter(deltas.get, _DONE):
                    on_delta(item)
            return future.result()
        except CancelledError as exc:
            raise EngineCanceled(request.task_id) from exc
        except Exception as exc:
            if type(exc).__name__ == "EngineDeadError":
                self._engine_died(exc)
                raise TransientError(
                    "the GPU engine stopped; the task is retried", "engine_unavailable"
                ) from exc
            raise
        finally:
            with self._lock:
                self._count_request(-1)
                futures = self._inflight.get(request.task_id)
                if futures is not None:
                    futures.discard(future)
                    if not futures:
                        del self._inflight[request.task_id]

    async def _generate(
        self, request_id: str, prompt: Any, params: Any, deltas: queue.SimpleQueue[object] | None
    ) -> Decoded:
        parts: list[str] = []
        tokens = 0
        finish = None
        async for output in self._llm.generate(prompt, params, request_id):
            completion = output.outputs[0]
            if completion.text:
                parts.append(completion.text)
                if deltas is not None:
                    deltas.put(completion.text)
            tokens += len(completion.token_ids)
            finish = completion.finish_reason
        return Decoded("".join(parts), tokens, finish == "stop")

    def _count_request(self, delta: int) -> None:
        self._in_vllm += delta
        if self._first_request_at is None:
            self._first_request_at = time.monotonic()
        if not self._full_logged and self._in_vllm >= self.config.max_num_seqs:
            self._full_logged = True
            log.info(
                "worker.engine.batch_full",
                requests=self._in_vllm,
                seconds_since_first=round(time.monotonic() - self._first_request_at, 1),
            )

    def _note_mode(self, request: PageRequest) -> None:
        asked = str(request.options.mode)
        if asked == self.config.spec.name or request.task_id in self._mode_noted:
            return
        with self._lock:
            if len(self._mode_noted) > 10_000:
                self._mode_noted.clear()
            self._mode_noted.add(request.task_id)
        log.warning(
            "task.mode.substituted", task_id=request.task_id, asked=asked, served=self.config.spec.name
        )

    def _engine_died(self, exc: BaseException) -> None:
        # every later page would fail too: stop the worker so that its supervisor restarts it
        # and the broker hands its tasks to a healthy worker
        log.error("worker.engine.dead", error=repr(exc))
        os.kill(os.getpid(), signal.SIGTERM)

    # -- control -------------------------------------------------------------------------
    def cancel(self, task_id: str) -> None:
        with self._lock:
            futures = list(self._inflight.get(task_id, ()))
        for future in futures:
            future.cancel()
        if futures:
            log.info("task.engine.canceled", task_id=task_id, requests=len(futures))

    def close(self) -> None:
        with self._lock:
            futures = [f for group in self._inflight.values() for f in group]
        for future in futures:
            future.cancel()
        self._loop.call_soon_threadsafe(self._llm.shutdown)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


def preparation_of(config: DeepSeekConfig) -> Preparation:
    """How the render processes prepare this engine's inputs; known before the engine starts,
    so that the worker starts them while vLLM loads (`worker.engines.registry`)."""
    return Preparation(
        factory=functools.partial(
            InputPreparer, config.model_path, config.spec, config.max_model_len, engine_environment(config)
        ),
        processes=config.prepare_processes or default_prepare_processes(),
    )


def engine_kwargs_summary(config: DeepSeekConfig) -> dict[str, Any]:
    kwargs = engine_kwargs(config)
    keys = ("max_num_seqs", "max_num_batched_tokens", "gpu_memory_utilization", "async_scheduling")
    return {key: kwargs[key] for key in keys} | {"ngram": config.ngram is not None}
