"""The task option flags of `submit` and `backfill`, made from `TaskOptions` itself: a field
added there (with its description and choices) becomes a flag here, with nothing to copy."""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic.fields import FieldInfo

from shared.options import TaskOptions

F = TypeVar("F", bound=Callable[..., Any])


def _base_type(annotation: Any) -> Any:
    """`Mode | None` -> Mode; `dict[str, str] | None` -> dict."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else str
    return typing.get_origin(annotation) or annotation


def _json_object(value: str | None) -> Any:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise click.BadParameter('give a JSON object, e.g. \'{"customer": "acme"}\'')
    return parsed


def _flag(name: str, info: FieldInfo) -> Callable[[F], F]:
    kind = _base_type(info.annotation)
    help_text = info.description or ""
    flag = "--" + name.replace("_", "-")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return click.option(
            flag, name, type=click.Choice([m.value for m in kind]), default=None, help=help_text
        )
    if kind is bool:
        return click.option(f"{flag}/--no-{name.replace('_', '-')}", name, default=None, help=help_text)
    if kind is dict:
        return click.option(
            flag,
            name,
            default=None,
            help=help_text + " (a JSON object)",
            callback=lambda _c, _p, v: _json_object(v),
        )
    return click.option(flag, name, type=int if kind is int else str, default=None, help=help_text)


def task_option_flags(command: F) -> F:
    """Every `TaskOptions` field as a flag (default: unset, so the server's default applies),
    plus `--webhook-url`."""
    for name, info in reversed(list(TaskOptions.model_fields.items())):
        command = _flag(name, info)(command)
    return click.option("--webhook-url", default=None, help="Where to POST the completion event.")(command)
