"""What happens after a task reaches a terminal state (webhooks, events). Each domain adds its
hook to `terminal_hooks`; hooks run after the state is committed and never fail the task."""

from __future__ import annotations

from celery import Celery

from shared.config import Settings
from shared.events.terminal import task_status_hook
from shared.webhooks.task_notifications import task_notification_hook
from worker.ops.task_metrics import task_metrics_hook
from worker.pipeline.job import TerminalHook


def terminal_hooks(settings: Settings, app: Celery) -> list[TerminalHook]:
    # live watchers first: they are waiting for this, a webhook is delivered later anyway
    return [task_status_hook(settings), task_metrics_hook(settings), task_notification_hook(settings, app)]
