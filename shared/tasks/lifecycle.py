"""Every change of a task's status, in one place.

The moves a task may make are written once, in `MOVES`; each function below makes one of them
with a conditional `UPDATE ... WHERE status IN (<its sources>)`, so that two writers racing for
the same row (two workers, a worker and the API, the sweep and a worker) cannot both win. A
move whose task is not in one of its source states is refused with `TransitionRefused`.

Functions take a session and only flush: the caller (a request, a worker step, the sweep) owns
the transaction. The state diagram in docs/architecture.md is generated from `MOVES`
(`python -m shared.tasks.lifecycle`) and a test checks it is current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db.models import Page, PageStatus, Task, TaskStatus
from shared.errors import Conflict
from shared.layout import LayoutPage

queued, running = TaskStatus.queued, TaskStatus.running
succeeded, failed, canceled = TaskStatus.succeeded, TaskStatus.failed, TaskStatus.canceled

# the one public wording of each ending the platform writes itself
CANCELED_CODE, CANCELED_MESSAGE = "canceled", "canceled by request"
DEAD_LETTER_CODE = "max_attempts_exceeded"
_MESSAGE_LIMIT = 4000


def dead_letter_message(attempts: int) -> str:
    return (
        f"the task was attempted {attempts} times without finishing; it is dead-lettered "
        "(an operator can retry it: POST /v1/tasks/{id}/retry)"
    )


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[TaskStatus]
    target: TaskStatus
    why: str


def _move(name: str, sources: set[TaskStatus], target: TaskStatus, why: str) -> Move:
    return Move(name, frozenset(sources), target, why)


MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        _move("claim", {queued, running}, running, "a worker takes it (running: its worker went silent)"),
        _move("requeue", {running}, queued, "a transient error, or its worker went silent"),
        _move("succeed", {running}, succeeded, "results stored"),
        _move("fail", {running}, failed, "permanent error, or every page failed"),
        _move("dead_letter", {running}, failed, "attempts used up"),
        _move("stop_canceled", {running}, canceled, "cancel requested: stopped at the next page"),
        _move("cancel_queued", {queued}, canceled, "DELETE, or the batch was canceled"),
        _move("reset_for_retry", {failed}, queued, "POST .../retry, or a batch retry"),
    )
}
ALLOWED: frozenset[tuple[TaskStatus, TaskStatus]] = frozenset(
    (source, move.target) for move in MOVES.values() for source in move.sources
)


class TransitionRefused(Conflict):
    """The task is not in a state the move starts from (or is gone)."""

    default_code = "task_state_conflict"

    def __init__(
        self,
        task_id: str,
        move: str,
        current: str | None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        where = f"it is {current}" if current else "it does not exist"
        super().__init__(message or f"task {task_id} cannot {move.replace('_', ' ')}: {where}", code)
        self.task_id, self.move, self.current = task_id, move, current


def _apply(session: Session, task_id: str, name: str, *guards: ColumnElement[bool], **values: Any) -> None:
    """Make move `name` on one row, or raise TransitionRefused."""
    move = MOVES[name]
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_(move.sources), *guards)
        .values(status=move.target, **values)
        .execution_options(synchronize_session=False)
    )
    _expire(session, task_id)  # refused too: the row may have moved under the caller's object
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise TransitionRefused(task_id, name, session.scalar(select(Task.status).where(Task.id == task_id)))


def _expire(session: Session, task_id: str) -> None:
    # a caller holding the row as an object (the API) sees the new values on next access
    loaded = session.identity_map.get(session.identity_key(Task, task_id))
    if loaded is not None:
        session.expire(loaded)


def _clip(message: str | None) -> str | None:
    return message[:_MESSAGE_LIMIT] if message else None


def claim(session: Session, task_id: str, worker: str, stale_before: datetime) -> Task:
    """Take a queued task, or a running one whose worker stopped heartbeating."""
    now = utcnow()
    takeable = or_(Task.status == queued, and_(Task.status == running, Task.heartbeat_at < stale_before))
    _apply(
        session,
        task_id,
        "claim",
        takeable,
        Task.cancel_requested.is_(False),
        attempts=Task.attempts + 1,
        worker=worker,
        started_at=func.coalesce(Task.started_at, now),
        heartbeat_at=now,
    )
    task = session.get(Task, task_id)
    assert task is not None
    return task


def requeue(
    session: Session,
    task_id: str,
    *,
    code: str | None,
    message: str | None,
    not_before: datetime,
    refund_attempt: bool = False,
) -> TaskStatus:
    """Back to the queue after a transient error (or a silent worker). A task whose cancel was
    requested ends `canceled` instead: nothing would ever claim it again. Returns the state
    reached. `refund_attempt`: the task did nothing wrong (its worker was stopping), so the claim
    that comes next does not use up one of its attempts."""
    try:
        stop_canceled(session, task_id, cancel_requested_only=True)
        return canceled
    except TransitionRefused:
        pass
    _apply(
        session,
        task_id,
        "requeue",
        error_code=code,
        error_message=_clip(message),
        heartbeat_at=None,
        enqueued_at=not_before,
        **({"attempts": Task.attempts - 1} if refund_attempt else {}),
    )
    return queued


def _finish(session: Session, task_id: str, name: str, *guards: ColumnElement[bool], **values: Any) -> None:
    now = utcnow()
    _apply(session, task_id, name, *guards, finished_at=now, heartbeat_at=None, **values)


def succeed(session: Session, task_id: str, *, result_keys: dict[str, Any], engine: str | None) -> None:
    _finish(
        session,
        task_id,
        "succeed",
        result_keys=result_keys,
        engine=engine,
        error_code=None,
        error_message=None,
        dead_lettered_at=None,
    )


def fail(
    session: Session, task_id: str, *, code: str | None, message: str | None, engine: str | None = None
) -> None:
    _finish(
        session,
        task_id,
        "fail",
        error_code=code,
        error_message=_clip(message),
        engine=engine,
        dead_lettered_at=None,
    )


def dead_letter(
    session: Session,
    task_id: str,
    *,
    attempts: int,
    code: str | None = None,
    message: str | None = None,
    engine: str | None = None,
) -> None:
    """Failed for good although retrying could have cured it (attempts ran out): listed for
    operators. Without a code it is the worker dying `attempts` times."""
    _finish(
        session,
        task_id,
        "dead_letter",
        error_code=code or DEAD_LETTER_CODE,
        error_message=_clip(message) or dead_letter_message(attempts),
        engine=engine,
        dead_lettered_at=utcnow(),
    )


def stop_canceled(
    session: Session, task_id: str, *, cancel_requested_only: bool = False, engine: str | None = None
) -> None:
    """A running task stopped because its cancel was requested."""
    guard = Task.cancel_requested.is_(True) if cancel_requested_only else true()
    values: dict[str, Any] = {"engine": engine} if engine else {}
    _finish(
        session,
        task_id,
        "stop_canceled",
        guard,
        error_code=CANCELED_CODE,
        error_message=CANCELED_MESSAGE,
        **values,
    )


def _cancel_values() -> dict[str, Any]:
    return {
        "cancel_requested": True,
        "error_code": CANCELED_CODE,
        "error_message": CANCELED_MESSAGE,
        "finished_at": utcnow(),
        "heartbeat_at": None,
    }


def cancel_queued(session: Session, task_id: str) -> None:
    _apply(session, task_id, "cancel_queued", **_cancel_values())


def request_cancel(session: Session, task_id: str) -> None:
    """Ask the worker of a running task to stop at the next page; its status stays `running`
    until it does. Asking twice is refused (`cancel_pending`)."""
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status == running, Task.cancel_requested.is_(False))
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    _expire(session, task_id)
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = session.execute(select(Task.status, Task.cancel_requested).where(Task.id == task_id)).one_or_none()
    if row is not None and row[0] == running:
        raise TransitionRefused(
            task_id, "request_cancel", running, "cancellation was already requested", "cancel_pending"
        )
    raise TransitionRefused(task_id, "request_cancel", row[0] if row else None)


def reset_for_retry(session: Session, task_id: str) -> None:
    """Back to the queue with fresh attempts, for the API's retry and a batch's retry alike.
    Pages that succeeded keep their checkpoints and are not processed again; failed ones run
    again."""
    try:
        _apply(
            session,
            task_id,
            "reset_for_retry",
            attempts=0,
            error_code=None,
            error_message=None,
            result_keys=None,
            cancel_requested=False,
            finished_at=None,
            heartbeat_at=None,
            dead_lettered_at=None,
            enqueued_at=utcnow(),
        )
    except TransitionRefused as exc:
        raise TransitionRefused(
            task_id,
            exc.move,
            exc.current,
            f"only failed tasks can be retried; this one is {exc.current or 'gone'}",
            "task_not_failed",
        ) from None
    session.execute(
        update(Page)
        .where(Page.task_id == task_id, Page.status == PageStatus.failed)
        .values(status=PageStatus.pending, error_code=None, error_message=None, finished_at=None)
    )
    _recount(session, task_id)
    _expire(session, task_id)


def cancel_batch_tasks(session: Session, batch_id: str) -> None:
    """Cancel a batch's queued tasks and ask its running ones to stop."""
    in_batch = Task.batch_id == batch_id
    session.execute(
        update(Task)
        .where(in_batch, Task.status.in_(MOVES["cancel_queued"].sources))
        .values(status=MOVES["cancel_queued"].target, **_cancel_values())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Task)
        .where(in_batch, Task.status == running)
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------------- pages
def record_page_succeeded(session: Session, task_id: str, page: LayoutPage) -> None:
    _lock_task(session, task_id)
    session.execute(
        update(Page)
        .where(Page.task_id == task_id, Page.number == page.number)
        .values(
            status=PageStatus.succeeded,
            width=page.width,
            height=page.height,
            dpi=page.dpi,
            blocks=len(page.blocks),
            output_tokens=page.output_tokens,
            truncated=page.truncated,
            retried=page.retried,
            error_code=None,
            error_message=None,
            render_ms=page.timings.render_ms,
            engine_ms=page.timings.engine_ms,
            source=page.source,
            finished_at=utcnow(),
        )
    )
    _recount(session, task_id)


def record_page_failed(session: Session, task_id: str, number: int, code: str, message: str) -> None:
    _lock_task(session, task_id)
    session.execute(
        update(Page)
        .where(Page.task_id == task_id, Page.number == number)
        .values(status=PageStatus.failed, error_code=code, error_message=message[:2000], finished_at=utcnow())
    )
    _recount(session, task_id)


def _lock_task(session: Session, task_id: str) -> None:
    """Serialise the page updates of one task. Pages finish in parallel; on PostgreSQL two
    transactions recounting at once would each miss the other's page (READ COMMITTED reads
    the count at statement start) and both store a short count. Updating the task row first
    takes its row lock (SQLite: the write lock), so the recount runs after the other commit."""
    session.execute(update(Task).where(Task.id == task_id).values(heartbeat_at=utcnow()))


def _recount(session: Session, task_id: str) -> None:
    """Counters come from the page rows, so a page recorded twice is counted once."""

    def count(*conditions: Any) -> Any:
        return (
            select(func.count())
            .select_from(Page)
            .where(Page.task_id == task_id, *conditions)
            .scalar_subquery()
        )

    session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(
            pages_done=count(Page.status != PageStatus.pending),
            pages_failed=count(Page.status == PageStatus.failed),
            pages_truncated=count(Page.truncated.is_(True)),
        )
        .execution_options(synchronize_session=False)
    )


# ------------------------------------------------------------------------------ the docs
def diagram() -> str:
    """The moves as text, one line each, by the state they start from: the state diagram of
    docs/architecture.md."""
    width = max(len(name) for name in MOVES) + 4
    order = list(TaskStatus)
    edges = sorted(
        ((source, move) for move in MOVES.values() for source in move.sources),
        key=lambda edge: order.index(edge[0]),
    )
    lines = []
    for source, move in edges:
        arrow = f"──{move.name}".ljust(width, "─") + "▶"
        lines.append(f"{source:<9} {arrow} {move.target:<10} {move.why}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(diagram())
