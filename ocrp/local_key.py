"""The API key of a laptop install: `ocrp run` makes one (owner `default`, every scope) the first
time, keeps it in `{data_dir}/local-api-key` (readable by the user only), and reuses it while it
is valid; the client commands fall back to it when OCR_API_KEY is not set."""

from __future__ import annotations

import os
from pathlib import Path

FILE_NAME = "local-api-key"


def key_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read_local_key(data_dir: Path) -> str | None:
    try:
        return key_path(data_dir).read_text().strip() or None
    except OSError:
        return None


def ensure_local_key(database_url: str, data_dir: Path) -> str:
    """The saved key when it is still live in the database, else a new one (saved)."""
    from shared.apikeys.store import create_key, find_live_key
    from shared.apikeys.tokens import SCOPES
    from shared.db.session import session_scope

    saved = read_local_key(data_dir)
    with session_scope(database_url) as session:
        if saved and find_live_key(session, saved) is not None:
            return saved
        _, token = create_key(session, "default", SCOPES, name="ocrp run (local)")
    path = key_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token
