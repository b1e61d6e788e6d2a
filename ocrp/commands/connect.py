"""What every command that talks to the API shares: the --api/--key/--json options, the SDK
client they make, and API failures turned into one line that says what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from pydantic import BaseModel

from ocrp.sdk import ApiError, AsyncClient, Client, ConnectionFailed, Forbidden, Unauthorized, WaitTimeout
from ocrp.sdk.connection import api_key, base_url

api_option = click.option("--api", envvar="OCR_API_URL", default=None, help="API base URL (OCR_API_URL).")
key_option = click.option("--key", envvar="OCR_API_KEY", default=None, help="API key (OCR_API_KEY).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")

NO_KEY_HINT = (
    "no API key: set OCR_API_KEY (an operator makes one with `ocrp keys create`), or pass --key; "
    "on the machine where `ocrp run` runs, its key is found automatically"
)


def _key_or_fail(key: str | None) -> str:
    found = api_key(key)
    if not found:
        raise click.ClickException(NO_KEY_HINT)
    return found


def client(api: str | None, key: str | None) -> Client:
    return Client(api, _key_or_fail(key))


def async_client(api: str | None, key: str | None) -> AsyncClient:
    return AsyncClient(api, _key_or_fail(key))


def hint(error: ApiError) -> str:
    if isinstance(error, Unauthorized):
        return "; check OCR_API_KEY (revoked or mistyped?), or make a key with `ocrp keys create`"
    if isinstance(error, Forbidden):
        return "; this key lacks the scope: ask for a key with it (`ocrp keys create --scopes ...`)"
    if error.retry_after is not None:
        return f"; try again in {error.retry_after:.0f} s"
    return ""


def one_line(error: Exception, api: str | None) -> str:
    if isinstance(error, ApiError):
        return f"{error.code}: {error.message} (HTTP {error.status}){hint(error)}"
    if isinstance(error, ConnectionFailed):
        return (
            f"cannot reach the API at {base_url(api)}: start it with `ocrp run` (or `ocrp serve`), "
            "or point OCR_API_URL / --api at it"
        )
    return str(error)


@contextmanager
def api_errors(api: str | None) -> Iterator[None]:
    """No tracebacks for what the API or the network says: one line and exit status 1."""
    try:
        yield
    except (ApiError, ConnectionFailed, WaitTimeout) as error:
        raise click.ClickException(one_line(error, api)) from None


def to_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def echo_json(value: Any) -> None:
    click.echo(json.dumps(to_json(value), indent=2, ensure_ascii=False))
