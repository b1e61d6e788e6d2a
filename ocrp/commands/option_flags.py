"""The task options as command-line flags, generated from `TaskOptions` (the one definition of
the option fields): `--mode`, `--prompt`, `--custom-prompt`, `--dpi`, `--pages`, and any field
added there later. A flag left out is not sent, so the server's default applies."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic.fields import FieldInfo

from shared.options import Mode, TaskOptions

F = TypeVar("F", bound=Callable[..., Any])


def _value_type(field: FieldInfo) -> Any:
    """The field's type without `| None`."""
    annotation = field.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    return annotation


def click_type(field: FieldInfo) -> click.ParamType:
    value_type = _value_type(field)
    if isinstance(value_type, type) and issubclass(value_type, enum.Enum):
        return click.Choice([str(member.value) for member in value_type])
    if value_type is int:
        return click.INT
    return click.STRING


def task_option_flags(command: F) -> F:
    """Decorate a command with one flag per task option; the values arrive as keyword
    arguments named like the fields."""
    for name, field in reversed(list(TaskOptions.model_fields.items())):
        command = click.option(
            f"--{name.replace('_', '-')}", name, type=click_type(field), default=None, help=field.description
        )(command)
    return command


MODE_CHOICE = click.Choice([mode.value for mode in Mode])
