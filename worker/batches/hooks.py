"""What happens after a batch reaches its final state (completed, failed or canceled): the
`batch.completed` webhook plugs in here. Hooks run after the state is committed, once per
batch, and never change the batch's outcome (a failing hook is logged)."""

from __future__ import annotations

from celery import Celery

from shared.config import Settings
from worker.batches.context import BatchHook
from worker.webhooks.batch_notifications import batch_notification_hook


def batch_hooks(settings: Settings, app: Celery) -> list[BatchHook]:
    return [batch_notification_hook(settings, app)]
