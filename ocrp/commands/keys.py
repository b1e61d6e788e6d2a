"""`ocrp keys`: create, list and revoke API keys, straight in the database (OCR_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session


@contextmanager
def database_session() -> Iterator[Session]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from shared.config import get_settings
    from shared.db.session import session_scope

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(
            f"the database cannot hold keys yet ({str(exc).splitlines()[0][:120]}); "
            "run `ocrp db upgrade` first"
        ) from exc


@click.group()
def keys() -> None:
    """API keys. Only a hash is stored: a key's secret is shown once, when it is created."""


def _check_webhook_url(url: str) -> None:
    """The URL rules every submission applies to its webhook, applied now: a URL they refuse (a
    private address without an OCR_URL_ALLOWLIST entry, a bad scheme) would make every
    submission with this key fail."""
    from shared.config import get_settings
    from shared.errors import OcrpError
    from shared.urls import check_url, parse_allowlist

    try:
        check_url(url, parse_allowlist(get_settings().url_allowlist))
    except OcrpError as exc:
        raise click.BadParameter(
            f"{exc.message} ({exc.code}); every submission with this key would be refused",
            param_hint="--webhook-url",
        ) from None


@keys.command("create")
@click.option("--owner", required=True, help="Whose tasks the key creates and sees.")
@click.option(
    "--scope",
    "scopes",
    default="submit,read",
    show_default=True,
    help="Comma-separated: submit (POST work), read (GET), admin (operators).",
)
@click.option("--name", default=None, help="A label, e.g. the service that uses the key.")
@click.option("--webhook-url", default=None, help="Default webhook URL of the key's tasks.")
def create(owner: str, scopes: str, name: str | None, webhook_url: str | None) -> None:
    """Create a key; print its secret (on stdout, alone, so that scripts can capture it)."""
    from shared.apikeys.store import create_key
    from shared.apikeys.tokens import parse_scopes
    from shared.errors import OcrpError

    if webhook_url:
        _check_webhook_url(webhook_url)
    try:
        scope_list = parse_scopes(scopes)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    from shared.clock import utcnow
    from shared.config import get_settings
    from shared.webhooks.owner_secrets import ensure_secret
    from shared.webhooks.secret_box import box_of

    settings = get_settings()
    box = box_of(settings.master_secret)
    if webhook_url and box is None and not settings.webhook_secrets.strip():
        raise click.BadParameter(
            "this installation cannot sign webhooks (neither OCR_MASTER_SECRET nor "
            "OCR_WEBHOOK_SECRETS is set), so a default webhook would make every submission "
            "with this key fail",
            param_hint="--webhook-url",
        )
    try:
        with database_session() as session:
            key, token = create_key(session, owner, scope_list, name, webhook_url)
            # an owner's first key brings its own webhook secret
            issued = ensure_secret(session, box, key.owner, utcnow()) if box is not None else None
    except OcrpError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {key.id} for owner {key.owner!r}, scopes {key.scopes}", err=True)
    if issued is not None:
        click.echo(
            f"owner {key.owner!r} signs its webhooks with its own secret, shown this once: {issued.secret}",
            err=True,
        )
    click.echo("the key is shown this once; store it now:", err=True)
    click.echo(token)


@keys.command("list")
@click.option("--owner", default=None, help="Only this owner's keys.")
def list_command(owner: str | None) -> None:
    """List keys (never their secrets)."""
    from shared.apikeys.store import list_keys

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    with database_session() as session:
        rows = [
            (
                k.id,
                k.owner,
                k.name or "-",
                k.scopes,
                f"ocrp_{k.lookup}_…",
                when(k.created_at),
                when(k.last_used_at),
                f"revoked {when(k.revoked_at)}" if k.revoked_at else "active",
            )
            for k in list_keys(session, owner)
        ]
    header = ("ID", "OWNER", "NAME", "SCOPES", "KEY", "CREATED", "LAST USED", "STATUS")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@keys.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key: requests with it fail at once (401)."""
    from shared.apikeys.store import revoke_key
    from shared.errors import OcrpError

    try:
        with database_session() as session:
            key = revoke_key(session, key_id)
    except OcrpError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"revoked {key.id} (owner {key.owner!r})")


COMMANDS = [keys]
