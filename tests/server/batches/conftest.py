from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.services import S3Server
from tests.fixtures.stack import Stack, build_stack


@pytest.fixture
def api_stack(tmp_path: Path, s3_server: S3Server) -> Iterator[Stack]:
    """The embedded default (no worker) with S3 credentials, for S3 sources and outputs."""
    stack = build_stack(
        "embedded",
        tmp_path,
        s3_endpoint_url=s3_server.endpoint,
        s3_access_key_id=s3_server.access_key,
        s3_secret_access_key=s3_server.secret_key,
        batch_max_urls=5,
        batch_max_upload_bytes=2 * 1024 * 1024,
    )
    yield stack
    stack.close()
