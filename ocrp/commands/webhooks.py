"""`ocrp webhooks`: helpers for operators setting up webhook signing."""

from __future__ import annotations

import click


@click.group()
def webhooks() -> None:
    """Webhook signing secrets."""


@webhooks.command("new-secret")
def new_secret() -> None:
    """Print a fresh `whsec_` signing secret for OCR_WEBHOOK_SECRETS. To rotate, add the new one
    (every listed secret signs), move receivers to it, then remove the old one."""
    from shared.webhooks.signing import new_secret as make

    click.echo(make())


COMMANDS = [webhooks]
