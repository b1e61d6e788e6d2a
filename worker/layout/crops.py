"""Cut figures out of a page image."""

from __future__ import annotations

import io

from PIL import Image


def crop_jpeg(image: Image.Image, box: tuple[int, int, int, int], quality: int = 90) -> bytes:
    region = image.crop(box)
    if region.mode not in ("RGB", "L"):
        region = region.convert("RGB")
    out = io.BytesIO()
    region.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
