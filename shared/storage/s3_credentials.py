"""The credentials of the platform's S3 clients: the configured keys, and nothing else unless
the operator asks for more.

Left to itself, boto3 looks for credentials down a chain that ends at the cloud metadata
service (169.254.169.254). With no S3 configured, a client's `s3_uri` would then make the
platform ask that service for the machine's role: an SSRF by proxy. So a client is built only
from `OCR_S3_ACCESS_KEY_ID` and `OCR_S3_SECRET_ACCESS_KEY`, or from boto3's chain when
`OCR_S3_DEFAULT_CREDENTIALS` says so (IAM roles, IRSA); otherwise S3 is not configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.errors import Unprocessable

if TYPE_CHECKING:
    from shared.config import Settings


class S3NotConfigured(Unprocessable):
    default_code = "s3_not_configured"


@dataclass(frozen=True)
class S3Keys:
    access_key_id: str
    secret_access_key: str


def s3_keys(settings: Settings) -> S3Keys | None:
    """The configured keys, or None where boto3's own chain is allowed to find them.
    Raises S3NotConfigured when neither is the case."""
    key, secret = settings.s3_access_key_id or "", settings.s3_secret_access_key or ""
    if key and secret:
        return S3Keys(key, secret)
    if settings.s3_default_credentials and not (key or secret):
        return None
    if key or secret:
        raise S3NotConfigured(
            "only one of OCR_S3_ACCESS_KEY_ID and OCR_S3_SECRET_ACCESS_KEY is set; the operator sets both",
            "s3_not_configured",
        )
    raise S3NotConfigured(
        "this server has no S3 credentials, so it reads no S3 locations; the operator sets "
        "OCR_S3_ACCESS_KEY_ID and OCR_S3_SECRET_ACCESS_KEY (or OCR_S3_DEFAULT_CREDENTIALS=true "
        "for an IAM role); submit the document by upload or URL instead",
        "s3_not_configured",
    )


def require_s3(settings: Settings) -> None:
    """Refuse now, at submission, what a worker could not read later."""
    s3_keys(settings)
