"""Run child processes under one parent: `ocrp run` (API + worker) and `ocrp worker --gpus`
(one engine process per GPU, or several).

The rules, in one place:
- Each child starts in its own session, so a terminal's Ctrl-C (sent to the whole foreground
  process group) reaches only this parent, which then stops the children in order. Otherwise
  the worker's render processes die with the keystroke while their pages are still in flight.
- A child with `restart=True` that exits is started again after a backoff (1 s, doubling up to
  30 s, back to 1 s once it has run a minute), without touching the others. A child with
  `restart=False` that exits ends the whole group (the API of `ocrp run` is not worth running
  without its worker).
- A child with `start_after` starts only once that child has written its `ready_file` (or has
  exited): two vLLM engines measuring free GPU memory at the same time on one GPU would each
  count the other's allocations as their own.
- A child gets SIGTERM when this supervisor dies, even by SIGKILL (Linux PR_SET_PDEATHSIG).
- `stop()` sends SIGTERM to every child, not to its group (a Celery warm shutdown: no new work,
  tasks in flight finish, then the worker closes its own render processes), waits up to
  `grace_s` in all, then SIGKILLs each child's whole process group, so no render process or
  beat scheduler outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # on top of this process's environment
    restart: bool = True
    ready_file: Path | None = None
    start_after: str | None = None


def child_grace_s(grace_s: float) -> float:
    """The grace a supervised worker gives its own tasks: it aborts their engine requests and
    hands them back with a fifth of the supervisor's grace left, before the kill."""
    return round(max(1.0, grace_s * 0.8), 1)


def backoff_s(failures: int) -> float:
    """Seconds to wait before the next start of a child that exited `failures` times in a row."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** (failures - 1))


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    next_start: float = 0.0
    starts: int = 0


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        grace_s: float,
        say: Callable[[str], None] = print,
        poll_s: float = 0.2,
    ) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique: {names}")
        self.grace_s = grace_s
        self.say = say
        self.poll_s = poll_s
        self._children = {spec.name: _Child(spec) for spec in specs}
        self._stopping = threading.Event()
        self.ended_by: str | None = None  # the child whose exit ended the group

    # -- reading state (tests and callers) -------------------------------------------------
    def pid(self, name: str) -> int | None:
        process = self._children[name].process
        return process.pid if process is not None and process.poll() is None else None

    def starts(self, name: str) -> int:
        return self._children[name].starts

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [c.process for c in self._children.values() if c.process is not None]

    # -- running ---------------------------------------------------------------------------
    def _ready(self, name: str) -> bool:
        child = self._children[name]
        if child.process is None:
            return False
        ready_file = child.spec.ready_file
        return child.process.poll() is not None or ready_file is None or ready_file.exists()

    def _start(self, child: _Child, now: float) -> None:
        spec = child.spec
        if spec.ready_file is not None:
            spec.ready_file.unlink(missing_ok=True)
        env = {**os.environ, **spec.env}
        child.process = subprocess.Popen(
            spec.argv, env=env, start_new_session=True, preexec_fn=_die_with_parent
        )
        child.started_at = now
        child.starts += 1
        self.say(f"ocrp: started {spec.name} (pid {child.process.pid})")

    def poll_once(self, now: float | None = None) -> bool:
        """Start, restart or notice children; False once the group must end."""
        now = time.monotonic() if now is None else now
        self._reap_orphans()
        for child in self._children.values():
            if self._stopping.is_set():
                return False
            process = child.process
            if process is None:
                gate = child.spec.start_after
                if now >= child.next_start and (gate is None or self._ready(gate)):
                    self._start(child, now)
                continue
            code = process.poll()
            if code is None:
                if now - child.started_at >= HEALTHY_AFTER_S:
                    child.failures = 0
                continue
            self._reap_group(process)
            if not child.spec.restart:
                self.say(f"ocrp: {child.spec.name} stopped (exit {code})")
                self.ended_by = child.spec.name
                return False
            child.failures += 1
            child.next_start = now + backoff_s(child.failures)
            child.process = None
            self.say(
                f"ocrp: {child.spec.name} exited (code {code}); restarting in "
                f"{backoff_s(child.failures):.0f} s, the others keep running"
            )
        return True

    def run(self) -> None:
        """Supervise until a signal asks to stop or a non-restarting child exits; then stop all."""
        try:
            while self.poll_once():
                self._stopping.wait(self.poll_s)
        finally:
            self.stop()

    def request_stop(self) -> None:
        """Safe from a signal handler: `run()` notices and stops the children."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def install_signal_handlers(self, interrupt: bool = False) -> None:
        """SIGTERM and SIGINT stop the group; a second one is not needed (the grace is bounded).
        With `interrupt`, the first one also raises KeyboardInterrupt in the main thread, for a
        caller busy with something else (`ocrp run --demo`); never once stopping has begun, so
        that it cannot cut `stop()` short and leave children behind."""

        def handle(signum: int, _: object) -> None:
            first = not self._stopping.is_set()
            self.request_stop()
            if interrupt and first:
                raise KeyboardInterrupt

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, handle)

    def stop(self) -> None:
        self._stopping.set()
        running = [c.process for c in self._children.values() if c.process and c.process.poll() is None]
        for process in running:
            # the child alone: its render processes must live until their pages are done
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"ocrp: pid {process.pid} still running after {self.grace_s:g} s; killing it")
        for child in self._children.values():
            if child.process is not None:
                self._reap_group(child.process)
                child.process.wait()

    def _reap_orphans(self) -> None:
        """As a container's PID 1, the render processes of a dead child become this process's
        children: collect them, or they stay zombies. Our own children are left to Popen, which
        needs their exit codes."""
        ours = {process.pid for process in self.processes}
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid in ours:
                return
            os.waitpid(info.si_pid, 0)

    @staticmethod
    def _reap_group(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL what is left of a child's process group (render processes, a beat child)."""
        _signal_group(process, signal.SIGKILL)


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM it (a warm shutdown) if this supervisor
    dies, even by SIGKILL, so that no engine keeps its GPU with nobody watching it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # the child leads its own session, so its pid is its process group's id
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
