"""Render replies from a render process to the worker without pushing their pixels through the
pipe: large tensors and images travel as files in shared memory, the rest is pickled as usual.

A prepared Gundam A4 page is ~21 MB of bf16 tensors plus a 6.5 MB image. Pickled through a pipe
that is three copies on the worker's side (pipe read, unpickle, torch.load of the storage bytes)
for every page, on the process that also runs vLLM's frontend. Here the render process writes
each large buffer once into a file under `SHM_DIR`; the worker maps the file (copy-on-write, so
the mapping is writable and nothing is copied unless written), unlinks it at once, and builds the
tensor on the mapping. The memory goes back when the last reference to the tensor goes.

Where shared memory is short (a container's default 64 MB /dev/shm) or missing, a buffer that
does not fit goes through the pickle as before: slower, never wrong.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import pickle
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

SHM_DIR = Path("/dev/shm")
MIN_BYTES = 1 << 20  # below this a pipe copy is cheaper than a file
SPARE_BYTES = 256 << 20  # leave this much shared memory to others (vLLM, NCCL)


class Spool:
    """A folder of one render pool's in-flight buffers; `close()` removes what nobody mapped
    (a reply whose child was killed on the render deadline)."""

    def __init__(self, base: Path = SHM_DIR) -> None:
        self.base = base
        self.path: Path | None = None

    def folder(self) -> str | None:
        """The folder, made on first use; None where there is no shared memory to write."""
        if self.path is None and self.base.is_dir() and os.access(self.base, os.W_OK):
            path = self.base / f"ocrp-render-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            with contextlib.suppress(OSError):
                path.mkdir(mode=0o700)
                self.path = path
        return str(self.path) if self.path is not None else None

    def close(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def dumps(obj: Any, spool: str | None) -> bytes:
    """Pickle `obj`, writing large tensors and images into `spool` (a folder; None: inline)."""
    out = io.BytesIO()
    _Pickler(out, spool).dump(obj)
    return out.getvalue()


def loads(data: bytes) -> Any:
    # the bytes come from this worker's own render process, never from a client
    return pickle.loads(data)  # noqa: S301


class _Pickler(pickle.Pickler):
    def __init__(self, out: io.BytesIO, spool: str | None) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self.spool = spool

    def reducer_override(self, obj: Any) -> Any:
        if self.spool is None:
            return NotImplemented
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return self._tensor(obj)
        image_module = sys.modules.get("PIL.Image")
        if image_module is not None and isinstance(obj, image_module.Image):
            return self._image(obj)
        return NotImplemented

    def _tensor(self, tensor: Any) -> Any:
        if tensor.device.type != "cpu" or tensor.requires_grad or tensor.nbytes < MIN_BYTES:
            return NotImplemented
        flat = tensor.detach().contiguous().view(-1).view(dtype=_byte_dtype())
        path = self._write(memoryview(flat.numpy()))
        if path is None:
            return NotImplemented
        return _attach_tensor, (path, str(tensor.dtype).removeprefix("torch."), tuple(tensor.shape))

    def _image(self, image: Any) -> Any:
        if image.width * image.height * len(image.getbands()) < MIN_BYTES:
            return NotImplemented
        path = self._write(memoryview(image.tobytes()))
        if path is None:
            return NotImplemented
        return _attach_image, (path, image.mode, image.size)

    def _write(self, data: memoryview) -> str | None:
        assert self.spool is not None
        try:
            if shutil.disk_usage(self.spool).free < data.nbytes + SPARE_BYTES:
                return None
            path = os.path.join(self.spool, uuid.uuid4().hex)
            with open(path, "wb") as handle:
                handle.write(data)
            return path
        except OSError:
            return None


def _byte_dtype() -> Any:
    import torch

    return torch.uint8


def _mapped(path: str) -> mmap.mmap:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        # copy-on-write: writable for torch, shared pages until someone writes
        mapping = mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY)
    with contextlib.suppress(OSError):
        os.unlink(path)  # the mapping keeps the memory; nothing is left to clean up
    return mapping


def _attach_tensor(path: str, dtype: str, shape: tuple[int, ...]) -> Any:
    import torch

    raw = torch.frombuffer(_mapped(path), dtype=torch.uint8)
    return raw.view(getattr(torch, dtype)).reshape(shape)


def _attach_image(path: str, mode: str, size: tuple[int, int]) -> Any:
    from PIL import Image

    mapping = _mapped(path)
    try:
        return Image.frombytes(mode, size, memoryview(mapping))  # PIL keeps its own pixel layout: one copy
    finally:
        mapping.close()
