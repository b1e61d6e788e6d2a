"""The embedded broker: kombu's filesystem transport, with message files written atomically.

kombu's own `_put` creates `{ts}_{uuid}.{queue}.msg` and then writes into it; a consumer in
another process polling at that moment can claim the still-empty file, fail to decode it and
lose the message. Here a message is written under a name consumers ignore and renamed into
place, so a consumer only ever sees complete messages. Used for `OCR_BROKER_URL=filesystem://`.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils import json as kombu_json

SCHEME = "ocrpfs"


class Channel(filesystem.Channel):
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
