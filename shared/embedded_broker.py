"""The embedded broker (`OCR_BROKER_URL=filesystem://`): kombu's filesystem transport with two
changes.

- Messages are written atomically. kombu's own `_put` creates `{ts}_{uuid}.{queue}.msg` and then
  writes into it; a consumer in another process polling at that moment can claim the still-empty
  file, fail to decode it and lose the message. Here a message is written under a name consumers
  ignore and renamed into place, so a consumer only ever sees complete messages.
- Queues are served in the order a worker lists them. kombu's virtual transports poll a
  consumer's queues round robin (`FairCycle`): after a message from `ocr.interactive` the next
  poll starts at `ocr.batch`, so under a deep backfill every other message a worker took would be
  a batch one. Redis has `queue_order_strategy=priority` for this; here every poll restarts at the
  first queue, and a queue further down the list is read only while the ones before it are empty.
"""

from __future__ import annotations

import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils import json as kombu_json
from kombu.utils.scheduling import FairCycle

SCHEME = "ocrpfs"


class InOrderCycle(FairCycle):
    """A FairCycle that always starts from its first resource."""

    def get(self, callback: Any, **kwargs: Any) -> Any:
        self.pos = 0
        return super().get(callback, **kwargs)  # type: ignore[no-untyped-call]


class Channel(filesystem.Channel):
    def _reset_cycle(self) -> None:
        self._cycle = InOrderCycle(self._get_and_deliver, self._active_queues, Empty)  # type: ignore[no-untyped-call]

    def _put(self, queue: Any, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # a leading dot: consumers match `<stem>.<queue>.msg` on the text after the first dot,
        # which this name does not have until the rename
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        with open(partial, "wb") as handle:
            # kombu's encoder: messages may hold values plain json cannot encode
            handle.write(kombu_json.dumps(message).encode())  # type: ignore[no-untyped-call]
        os.replace(partial, final)


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES.setdefault(SCHEME, "shared.embedded_broker:Transport")
