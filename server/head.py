"""`HEAD` on every read route: answered as the `GET` would be (status and headers, the
`Content-Length` included), without the body. FastAPI registers routes for `GET` only, so
without this a `HEAD` answered 405 although the `read` scope grants it.

The request goes to the route as a `GET` (so it is authorised as a read). Once the head of the
answer is out, the body is dropped and the route is told the client left, so that a stream
(events, a large download) stops at once instead of running to its end unseen.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def head_only(message: Message) -> None:
            nonlocal finished
            if finished:
                return
            if message["type"] == "http.response.start":
                await send(message)
                return
            if message["type"] == "http.response.body":
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def receive_until_answered() -> Message:
            if finished:
                return {"type": "http.disconnect"}
            return await receive()

        await self.app({**scope, "method": "GET"}, receive_until_answered, head_only)
