"""Authentication and scopes as request dependencies.

`authenticate` turns the `Authorization: Bearer ocrp_...` header into a `Caller` (once per
request: the upload gate may have done it already) and takes a token from the key's rate
bucket. A key verified in the last `OCR_AUTH_CACHE_S` seconds is taken from this process's
cache (`server.auth.key_cache`) without touching the database, on the event loop; only a miss
goes to the thread pool for the lookup. The scope dependencies then say what the caller may do:

- `get_caller` (CallerDep): `read` for GET/HEAD, `submit` for everything else;
- `require_admin` (AdminDep): `admin` (operators: dead letters, ops, every owner's tasks);
- `require_submit_or_admin`: an owner acting on their own work, or an operator;
- `require_admin_page`: `admin`, for pages a browser opens (`/ops`): a missing key makes the
  browser ask for one (HTTP Basic, the key as the password; any user name).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from server.auth.caller import ANONYMOUS, Caller
from server.auth.key_cache import VerifiedKeys
from server.auth.ratelimit import RateLimiter, retry_after
from shared.apikeys.store import find_live_key, touch, touch_due
from shared.apikeys.tokens import hash_token
from shared.clock import utcnow
from shared.config import Settings
from shared.db.session import get_sessionmaker
from shared.errors import AuthError, Forbidden, RateLimited
from shared.logs import get_logger

log = get_logger(__name__)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# declares the scheme in the OpenAPI document (and the Authorize button of /docs); the header
# itself is read below, so that a wrong scheme gets a precise message
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `ocrp keys create`: `Authorization: Bearer ocrp_...`.",
)


BASIC_CHALLENGE = 'Basic realm="ocrp", charset="UTF-8"'


def bearer_token(authorization: str | None) -> str:
    """The key of `Bearer <key>`, or of `Basic` credentials with the key as the password (or as
    the user name with an empty password, as `curl -u KEY:` sends it)."""
    if not authorization:
        raise AuthError("no API key: send it as `Authorization: Bearer <key>`", "unauthorized")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "basic" and token.strip():
        return _basic_key(token.strip())
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be `Bearer <key>`", "unauthorized")
    return token.strip()


def _basic_key(encoded: str) -> str:
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("the Basic credentials are not valid base64 of `user:key`", "unauthorized") from None
    return password or user


def _caller_for_token(settings: Settings, token: str) -> Caller:
    with get_sessionmaker(settings.database_url, settings.database_pool_size)() as session:
        key = find_live_key(session, token)
        if key is None:
            raise AuthError("the API key is invalid or has been revoked", "unauthorized")
        caller = Caller(owner=key.owner, scopes=key.scope_set, key_id=key.id, webhook_url=key.webhook_url)
        now = utcnow()
        if touch_due(key, now, settings.key_touch_interval_s):
            try:
                touch(session, key.id, now)
                session.commit()
            except SQLAlchemyError as exc:  # bookkeeping must never fail the request
                session.rollback()
                log.warning("auth.touch.failed", key_id=key.id, error=str(exc)[:200])
        return caller


def _verified_caller(state: Any, token: str, digest: str) -> Caller:
    caller = _caller_for_token(state.settings, token)
    keys: VerifiedKeys = state.verified_keys
    keys.put(digest, caller)
    return caller


def _take_token(limiter: RateLimiter, caller: Caller) -> None:
    wait = limiter.acquire(caller.rate_identity)
    if wait > 0:
        seconds = retry_after(wait)
        raise RateLimited(
            f"too many requests with this API key; retry in {seconds} s", "rate_limited", retry_after=seconds
        )


def resolve_caller(state: Any, authorization: str | None) -> Caller:
    """The caller behind an Authorization header, rate limit included (sync: it may read the DB)."""
    settings: Settings = state.settings
    caller = ANONYMOUS
    if settings.auth_enabled:
        token = bearer_token(authorization)
        digest = hash_token(token)
        caller = state.verified_keys.get(digest) or _verified_caller(state, token, digest)
    _take_token(state.rate_limiter, caller)
    return caller


async def resolve_caller_async(state: Any, authorization: str | None) -> Caller:
    """`resolve_caller` for the event loop: a cached key and a local rate bucket cost no I/O and
    no thread; a database lookup or a Redis bucket runs in the thread pool."""
    settings: Settings = state.settings
    caller = ANONYMOUS
    if settings.auth_enabled:
        token = bearer_token(authorization)
        digest = hash_token(token)
        caller = state.verified_keys.get(digest) or await run_in_threadpool(
            _verified_caller, state, token, digest
        )
    limiter: RateLimiter = state.rate_limiter
    if limiter.blocking:
        await run_in_threadpool(_take_token, limiter, caller)
    else:
        _take_token(limiter, caller)
    return caller


async def _request_caller(request: Request) -> Caller:
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    caller = await resolve_caller_async(request.app.state, request.headers.get("authorization"))
    request.state.caller = caller
    return caller


# Every dependency below is `async def` although most do no I/O: FastAPI runs a sync
# dependency in the thread pool, a hop that costs more than the work itself.
async def authenticate(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    return await _request_caller(request)


def require_scope(caller: Caller, scope: str) -> Caller:
    if scope not in caller.scopes:
        raise Forbidden(
            f"this API key lacks the `{scope}` scope (it has: {', '.join(sorted(caller.scopes))})",
            "forbidden",
        )
    return caller


async def get_caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    # `authenticate` inlined: FastAPI walks the dependency tree on every request, and this one
    # runs on every poll
    caller = await _request_caller(request)
    return require_scope(caller, "read" if request.method in READ_METHODS else "submit")


async def require_admin(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    return require_scope(caller, "admin")


async def require_submit_or_admin(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    if caller.is_admin:
        return caller
    return require_scope(caller, "submit")


async def require_admin_page(request: Request) -> Caller:
    try:
        caller = await _request_caller(request)
    except AuthError as exc:
        exc.challenge = BASIC_CHALLENGE
        raise
    return require_scope(caller, "admin")


async def metrics_access(request: Request) -> None:
    """For `/metrics`: open when OCR_METRICS_PUBLIC is set (or auth is off), else `admin`."""
    settings: Settings = request.app.state.settings
    if settings.metrics_public or not settings.auth_enabled:
        return
    caller = await resolve_caller_async(request.app.state, request.headers.get("authorization"))
    require_scope(caller, "admin")
