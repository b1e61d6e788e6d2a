"""HTTP routes of the caller's own webhook signing secrets: list (never the plaintext) and
rotate (the new secret is in the answer, once)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from server.deps import CallerDep, SessionDep, SettingsDep
from server.errors import responses
from server.webhooks.secret_schemas import (
    IssuedSecretResource,
    RotateSecretRequest,
    SecretList,
    SecretResource,
)
from shared.clock import utcnow
from shared.webhooks.owner_secrets import issue_secret, live_secrets, require_box

router = APIRouter(prefix="/v1/webhooks/secrets", tags=["webhooks"])


@router.get("", response_model=SecretList, summary="Your webhook signing secrets (without their values)")
def list_secrets(session: SessionDep, caller: CallerDep) -> SecretList:
    rows = live_secrets(session, caller.owner, utcnow())
    return SecretList(data=[SecretResource.of(row) for row in rows], fallback=not rows)


@router.post(
    "/rotate",
    status_code=201,
    response_model=IssuedSecretResource,
    responses=responses(400, 409, 422),
    summary="Make a new webhook signing secret; the previous one keeps signing for the overlap",
)
def rotate_secret(
    body: RotateSecretRequest, session: SessionDep, settings: SettingsDep, caller: CallerDep
) -> JSONResponse:
    box = require_box(settings)
    overlap = settings.webhook_secret_overlap_s if body.overlap_s is None else body.overlap_s
    issued = issue_secret(session, box, caller.owner, utcnow(), overlap)
    session.commit()
    body_json = IssuedSecretResource.of(issued).model_dump(mode="json")
    # the plaintext must not land in a shared cache
    return JSONResponse(body_json, status_code=201, headers={"Cache-Control": "no-store"})
