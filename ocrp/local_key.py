"""The API key of a laptop install: `ocrp run` makes one (owner `default`, every scope) the first
time, keeps it in `{data_dir}/local-api-key` (readable by the user only), and reuses it while it
is valid; the client commands fall back to it when OCR_API_KEY is not set. A copy goes to the
user's config folder (`$XDG_CONFIG_HOME/ocrp/`, else `~/.config/ocrp/`), so the commands find it
from any folder, not only the one `ocrp run` was started in."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_NAME = "local-api-key"


def key_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def user_key_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "ocrp" / FILE_NAME


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def read_local_key(data_dir: Path) -> str | None:
    return _read(key_path(data_dir)) or _read(user_key_path())


def _write_private(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")


def ensure_local_key(database_url: str, data_dir: Path) -> str:
    """The saved key when it is still live in the database, else a new one (saved)."""
    from shared.apikeys.store import create_key, find_live_key
    from shared.apikeys.tokens import SCOPES
    from shared.db.session import session_scope

    saved = _read(key_path(data_dir))
    with session_scope(database_url) as session:
        if saved and find_live_key(session, saved) is not None:
            token = saved
        else:
            _, token = create_key(session, "default", SCOPES, name="ocrp run (local)")
            _write_private(key_path(data_dir), token)
    if _read(user_key_path()) != token:
        # a read-only home: the commands still find the key in the data folder
        with contextlib.suppress(OSError):
            _write_private(user_key_path(), token)
    return token
