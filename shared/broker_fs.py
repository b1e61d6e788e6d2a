"""The embedded broker: kombu's filesystem transport, serving queues in the order a worker
lists them.

kombu's virtual transports poll a consumer's queues round robin (`FairCycle`): after taking a
message from `ocr.interactive` the next poll starts at `ocr.batch`, so under a deep backfill
every other message a worker takes would be a batch one. Redis has
`queue_order_strategy=priority` for this; the filesystem transport has no such option, so this
channel restarts every poll at the first queue. A queue further down the list is read only
while the ones before it are empty.
"""

from __future__ import annotations

from queue import Empty
from typing import Any

from kombu.transport import filesystem
from kombu.utils.scheduling import FairCycle


class InOrderCycle(FairCycle):
    """A FairCycle that always starts from its first resource."""

    def get(self, callback: Any, **kwargs: Any) -> Any:
        self.pos = 0
        return super().get(callback, **kwargs)  # type: ignore[no-untyped-call]


class Channel(filesystem.Channel):
    def _reset_cycle(self) -> None:
        self._cycle = InOrderCycle(self._get_and_deliver, self._active_queues, Empty)  # type: ignore[no-untyped-call]


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT = f"{__name__}:Transport"
