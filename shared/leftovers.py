"""Files a killed API process leaves behind, and the sweep that removes them.

An upload is staged in the temporary folder (`ocrp-upload-*`) and then written into local
storage through a hidden `.upload-*` file beside its target; a process killed in between leaves
the staging file (as big as the upload), the partial file, and the task's folder. Nothing else
ever names these files, so once they are older than any upload can take they are garbage. The
API sweeps at start (a restart after a crash); workers sweep with their periodic maintenance.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

STAGING_PREFIX = "ocrp-upload-"
PARTIAL_PREFIX = ".upload-"


def _old(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def remove_stale_staging(folder: Path, cutoff: float) -> int:
    """Staging files in `folder` last written before `cutoff` (a time.time() value)."""
    removed = 0
    for path in folder.glob(f"{STAGING_PREFIX}*"):
        if path.is_file() and _old(path, cutoff):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_stale_partials(root: Path, cutoff: float) -> int:
    """Under a local storage `root`: partial writes older than `cutoff`, then the folders left
    empty, bottom-up. A folder counts as old when it is, or when this sweep emptied it (each
    removal inside it made it look young)."""
    if not root.is_dir():
        return 0
    removed = 0
    emptied: set[Path] = set()
    for folder, _, names in os.walk(root, topdown=False):
        here = Path(folder)
        stale = here in emptied or _old(here, cutoff)
        for name in names:
            path = here / name
            if name.startswith(PARTIAL_PREFIX) and _old(path, cutoff):
                path.unlink(missing_ok=True)
                removed += 1
                stale = True
        if here == root or not stale:
            continue
        try:
            here.rmdir()  # only ever succeeds on an empty folder
        except OSError:
            continue
        removed += 1
        emptied.add(here.parent)
    return removed


def remove_leftovers(storage_dir: Path | None, max_age_s: float, now: float | None = None) -> int:
    """Both sweeps, for this host's temporary folder and (local storage) its storage root."""
    cutoff = (time.time() if now is None else now) - max_age_s
    removed = remove_stale_staging(Path(tempfile.gettempdir()), cutoff)
    if storage_dir is not None:
        removed += remove_stale_partials(storage_dir, cutoff)
    return removed
