"""Keys this API process verified a moment ago, so that a poll does not pay a database round trip
to check its key again.

An entry is trusted for `OCR_AUTH_CACHE_S` seconds after the database said the key is live; the
next request after that verifies it again (and refreshes the entry). That time is the bound on
revocation: `ocrp keys revoke` writes the database, and every API process stops accepting the key
at most that long afterwards. Only good keys are kept (a flood of wrong keys cannot fill the
memory, and cannot evict real ones: each miss costs the same database lookup as before), keyed by
the SHA-256 of the token, the same digest the database stores; the token itself never is.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from server.auth.caller import Caller

MAX_ENTRIES = 10_000


class VerifiedKeys:
    def __init__(
        self, ttl_s: float, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._lock = threading.Lock()  # the upload gate and sync routes verify from threads

    def get(self, digest: str) -> Caller | None:
        """The caller of a key verified less than `ttl_s` ago, else None."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        caller, verified_at = entry
        if self.clock() - verified_at >= self.ttl_s:
            return None
        return caller

    def put(self, digest: str, caller: Caller) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[digest] = (caller, self.clock())
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)  # the one verified longest ago

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def __len__(self) -> int:
        return len(self._entries)
