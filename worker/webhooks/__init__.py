"""Sending webhooks, which only workers do: one attempt of one delivery (`delivery.py`), the
guarded HTTP try (`sender.py`), the sweep that re-sends lost deliveries (`sweep.py`) and the
`batch.completed` notification a finishing batch records (`batch_notifications.py`).
What both sides need (recording events, payloads, signing, schedules) stays in
`shared/webhooks/`."""
