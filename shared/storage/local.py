"""Storage in a local folder: the embedded default, and handy for a single box."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from shared.storage.base import ObjectNotFound, StorageError

_CHUNK = 1024 * 1024


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in key.split("/")):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def _prefix_path(self, prefix: str) -> Path:
        return self._path(prefix.rstrip("/"))

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # write beside the target and rename: readers never see half an object
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := fileobj.read(_CHUNK):
                    out.write(chunk)
                    written += len(chunk)
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageError(f"writing {key!r} failed: {exc}") from exc
        return written

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        import io

        self.put_file(key, io.BytesIO(data), content_type)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    def iter_chunks(self, key: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return _read_chunks(handle, chunk_size)

    def download_to(self, key: str, path: str) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self._prefix_path(prefix) if prefix.endswith("/") else self._path(prefix).parent
        if not base.is_dir():
            return iter(())
        keys = (
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".upload-")
        )
        return iter(sorted(k for k in keys if k.startswith(prefix)))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.list_keys(prefix))
        for key in keys:
            self.delete(key)
        if prefix.endswith("/"):
            shutil.rmtree(self._prefix_path(prefix), ignore_errors=True)
        return len(keys)

    def presign_get(self, key: str, expires_s: int, filename: str | None = None) -> str | None:
        return None

    def check(self) -> None:
        probe = self.root / ".ready-probe"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"local storage at {self.root} is not writable: {exc}") from exc


def _read_chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk
