"""Webhook callbacks: events recorded in the database, delivered from the `webhooks` queue with
Standard Webhooks signatures, durable retries and a delivery log. See docs/webhooks.md.

    emit.py         record_event(): the one call any side makes to emit an event
    task_notifications.py  task.* webhook events: their data, and the worker's terminal hook
    payload.py      the {type, timestamp, data} envelope and the bytes sent (pure)
    signing.py      webhook-id / webhook-timestamp / webhook-signature (pure)
    schedule.py     the retry schedule, jitter and Retry-After (pure)

Sending is the worker's job and lives in `worker/webhooks/` (delivery, sender, sweep, and the
batch.completed notification).

The package imports nothing here, so that settings validation can use `signing` and
`schedule` without loading the database and queue layers.
"""
