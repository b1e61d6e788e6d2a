"""Multipart form fields of the upload routes.

`options_form` turns the fields of `TaskOptions` into form parameters, so that the upload routes
take exactly the options the JSON routes take, with the same names, types, limits and
descriptions, and a field added to `TaskOptions` is a form field at once.

`refuse_unknown_fields` answers a field no parameter of the route reads (`-F page=1` for
`pages`) with the same 422 `validation_error` as an unknown JSON member: silently ignoring it
would OCR the whole document instead of the page that was meant.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Form, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from shared.options import TaskOptions

M = TypeVar("M", bound=BaseModel)

# the pydantic constraints a form parameter can carry over from the model field
_CONSTRAINTS = ("max_length", "min_length", "ge", "gt", "le", "lt", "pattern")


def _form_parameter(name: str, field: FieldInfo) -> inspect.Parameter:
    constraints = {
        key: getattr(rule, key) for rule in field.metadata for key in _CONSTRAINTS if hasattr(rule, key)
    }
    form = Form(description=field.description, **constraints)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=field.default,
        annotation=Annotated[field.annotation, form],
    )


def options_form(model: type[M]) -> Callable[..., M]:
    """A dependency whose parameters are `model`'s fields as form fields, returning the model.
    An empty form value means "not given", as it does for curl's `-F pages=`."""

    def from_form(**values: Any) -> M:
        given = {key: value for key, value in values.items() if value is not None and value != ""}
        try:
            return model.model_validate(given)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
            ) from None

    parameters = [_form_parameter(name, field) for name, field in model.model_fields.items()]
    from_form.__signature__ = inspect.Signature(parameters, return_annotation=model)  # type: ignore[attr-defined]
    return from_form


OptionsForm = Annotated[TaskOptions, Depends(options_form(TaskOptions))]


def _body_names(dependant: Dependant) -> Iterator[str]:
    for field in dependant.body_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _body_names(sub)


def declared_fields(route: APIRoute) -> frozenset[str]:
    """The form field names the route's parameters read (its own and its dependencies'): a
    walk over a handful of parameters, cheaper than any cache keyed by route."""
    return frozenset(_body_names(route.dependant))


async def refuse_unknown_fields(request: Request) -> None:
    """Route dependency of multipart routes; the form is already parsed (and cached) by then."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    form = await request.form()
    unknown = sorted(set(form.keys()) - declared_fields(route))
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("body", name), "msg": "Extra inputs are not permitted"}
                for name in unknown
            ]
        )


RefuseUnknownFields = Depends(refuse_unknown_fields)
