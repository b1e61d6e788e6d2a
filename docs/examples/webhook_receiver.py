"""A receiver for ocrp webhooks: checks the Standard Webhooks signature, ignores repeats of an
event it already handled, and answers quickly.

    pip install standardwebhooks
    OCRP_WEBHOOK_SECRET=whsec_... python webhook_receiver.py 8080
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


class WebhookHandler(BaseHTTPRequestHandler):
    secret = os.environ.get("OCRP_WEBHOOK_SECRET", "")
    seen_ids: set[str] = set()  # keep these in your database: delivery is at least once

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            # checks the signature over the raw body and refuses timestamps off by > 5 minutes
            event = Webhook(self.secret).verify(body, dict(self.headers.items()))
        except WebhookVerificationError:
            self.reply(400)  # not from ocrp, or changed on the way
            return
        self.reply(self.accept(self.headers["webhook-id"], event))

    def accept(self, webhook_id: str, event: dict[str, Any]) -> int:
        """Handle a verified event; the status returned is the answer (2xx = delivered)."""
        if webhook_id in self.seen_ids:
            return 204  # a retry of an event already handled
        self.seen_ids.add(webhook_id)
        data = event["data"]
        print(event["type"], data["id"], data["status"], (data.get("result") or {}).get("markdown"))
        return 204

    def reply(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    ThreadingHTTPServer(("0.0.0.0", port), WebhookHandler).serve_forever()  # noqa: S104
