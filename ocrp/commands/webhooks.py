"""`ocrp webhooks`: webhook signing secrets, for operators (straight in the database)."""

from __future__ import annotations

import click

from ocrp.commands.connect import api_errors, api_option, client, echo_json, json_option, key_option
from ocrp.sdk.errors import NotFound


@click.group()
def webhooks() -> None:
    """Webhook deliveries and signing secrets."""


@webhooks.command("rotate-secret")
@click.option("--owner", required=True, help="Whose deliveries the new secret signs.")
@click.option(
    "--overlap",
    "overlap_s",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds the previous secret keeps signing beside the new one "
    "(default OCR_WEBHOOK_SECRET_OVERLAP_S).",
)
def rotate_secret(owner: str, overlap_s: int | None) -> None:
    """Give OWNER a new signing secret (its first one, or a rotation) and print it on stdout,
    alone: it is shown this once."""
    from ocrp.commands.keys import database_session
    from shared.apikeys.store import validate_owner
    from shared.clock import utcnow
    from shared.config import get_settings
    from shared.errors import OcrpError
    from shared.webhooks.owner_secrets import issue_secret, require_box

    settings = get_settings()
    try:
        box = require_box(settings)
        with database_session() as session:
            issued = issue_secret(
                session,
                box,
                validate_owner(owner),
                utcnow(),
                settings.webhook_secret_overlap_s if overlap_s is None else overlap_s,
            )
    except OcrpError as exc:
        raise click.ClickException(exc.message) from exc
    if issued.previous_expires_at is not None:
        click.echo(
            f"the previous secret signs too until {issued.previous_expires_at:%Y-%m-%d %H:%M:%S} UTC",
            err=True,
        )
    click.echo(f"new webhook secret {issued.id} for owner {owner!r}; shown this once:", err=True)
    click.echo(issued.secret)


@webhooks.command("new-secret")
def new_secret() -> None:
    """Print a fresh `whsec_` signing secret for OCR_WEBHOOK_SECRETS (the installation-wide
    fallback). To rotate, add the new one (every listed secret signs), move receivers to it,
    then remove the old one."""
    from shared.webhooks.signing import new_secret as make

    click.echo(make())


@webhooks.command("deliveries")
@click.argument("task_id")
@json_option
@api_option
@key_option
def deliveries(task_id: str, as_json: bool, api: str | None, key: str | None) -> None:
    """A task's webhook deliveries, each with its attempts."""
    with client(api, key) as ocr, api_errors(api):
        found = ocr.deliveries(task_id).data
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo(f"no webhook deliveries for {task_id}")
    for delivery in found:
        click.echo(
            f"{delivery.id}  {delivery.event_type}  {delivery.status}  "
            f"attempts {delivery.attempt_count}  {delivery.url}"
        )
        for attempt in delivery.attempts:
            code = attempt.status_code or "-"
            click.echo(
                f"    #{attempt.number}  {attempt.started_at:%Y-%m-%d %H:%M:%S}  {code}  "
                f"{attempt.outcome}  {attempt.error or ''}"
            )


@webhooks.command("redeliver")
@click.argument("delivery_id")
@api_option
@key_option
def redeliver(delivery_id: str, api: str | None, key: str | None) -> None:
    """Send a delivery again now, with the same webhook-id."""
    with client(api, key) as ocr, api_errors(api):
        try:
            delivery = ocr.redeliver(delivery_id)
        except NotFound as error:
            raise click.ClickException(
                f"{error.code}: no delivery {delivery_id}; "
                "list a task's with `ocrp webhooks deliveries TASK_ID`"
            ) from None
    click.echo(f"{delivery.id}  {delivery.status}  queued again")


COMMANDS = [webhooks]
